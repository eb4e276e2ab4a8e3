"""Result files (結果ファイル): a bureau's answer to a registration file, record by record."""

from __future__ import annotations

from datetime import datetime
from typing import IO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from bureaus import fileformat
from bureaus.models import BatchStatus, Submission, SubmissionBatch, SubmissionStatus
from bureaus.services.common import CHUNK_SIZE
from consentoffice.core import roles
from consentoffice.core.history import save_tracked
from consentoffice.core.i18n import record_text
from consentoffice.core.notifications import notify_roles
from consentoffice.models import Notification
from members.services import require_perm


def import_response(*, actor, batch: SubmissionBatch, stream: IO[bytes]) -> SubmissionBatch:
    """Read a bureau's response file: code 00 marks a record accepted, any other rejected (it
    comes back to the operators, see ``resubmit``). A file for another batch, a record of another
    batch or wrong trailer counts change nothing. Importing the same file twice changes nothing."""
    require_perm(actor, "bureaus.change_submissionbatch")
    try:
        header, records = fileformat.read_response(stream)
    except (fileformat.FileFormatError, UnicodeDecodeError):
        raise ValidationError(_("結果ファイルの形式が正しくありません。")) from None
    with transaction.atomic():
        batch = SubmissionBatch.objects.select_for_update().select_related("bureau").get(pk=batch.pk)
        if header.batch_id != batch.pk or header.bureau_code != batch.bureau.code:
            raise ValidationError(_("この登録ファイルに対する結果ファイルではありません。"))
        answered_at = timezone.now()
        chunk: dict[int, str] = {}
        try:
            for record in records:
                chunk[record["submission_id"]] = record["result_code"]
                if len(chunk) >= CHUNK_SIZE:
                    _apply_results(batch, chunk, actor=actor, answered_at=answered_at)
                    chunk = {}
        except (fileformat.FileFormatError, UnicodeDecodeError):
            raise ValidationError(_("結果ファイルの形式が正しくありません。")) from None
        _apply_results(batch, chunk, actor=actor, answered_at=answered_at)
        counts = Submission.objects.filter(batch=batch)
        batch.accepted_count = counts.filter(response_code=fileformat.ACCEPTED).count()
        batch.rejected_count = counts.exclude(
            Q(response_code="") | Q(response_code=fileformat.ACCEPTED)
        ).count()
        first_answer = batch.status != BatchStatus.ANSWERED
        if first_answer:
            batch.status = BatchStatus.ANSWERED
            batch.answered_at = answered_at
        save_tracked(batch, actor=actor, reason=record_text("登録結果ファイルを取り込み"))
        if first_answer and batch.rejected_count:
            _notify_rejects(batch)
    return batch


def _notify_rejects(batch: SubmissionBatch) -> None:
    """Operators fix rejected records and resubmit them: each sees one notice per answered file."""
    notify_roles(
        kind=Notification.Kind.BUREAU_REJECT,
        title=record_text(
            "信用情報機関の返却: %(bureau)s 登録ファイル %(batch)s で %(count)d件",
            bureau=batch.bureau.code,
            batch=str(batch),
            count=batch.rejected_count,
        ),
        url=reverse("admin:bureaus_submission_changelist")
        + f"?status__exact={SubmissionStatus.REJECTED}&bureau__id__exact={batch.bureau_id}",
        role_names=(roles.OPERATOR, roles.SUPERVISOR),
    )


def _apply_results(batch: SubmissionBatch, results: dict[int, str], *, actor, answered_at: datetime) -> None:
    if not results:
        return
    found = {
        s.pk: s for s in Submission.objects.select_for_update().filter(batch=batch, pk__in=list(results))
    }
    if len(found) != len(results):
        raise ValidationError(_("結果ファイルにこの登録ファイルにない記録が含まれています。"))
    changed = []
    for pk, code in results.items():
        submission = found[pk]
        if submission.status != SubmissionStatus.BATCHED:
            continue
        accepted = code == fileformat.ACCEPTED
        submission.status = SubmissionStatus.ACCEPTED if accepted else SubmissionStatus.REJECTED
        submission.response_code = code
        submission.response_message = fileformat.result_message(code)[:200]
        submission.answered_at = answered_at
        changed.append(submission)
    if changed:
        bulk_update_with_history(
            changed,
            Submission,
            ["status", "response_code", "response_message", "answered_at"],
            default_user=actor,
            default_change_reason=record_text("登録結果の取り込み（登録ファイル %(batch)s）", batch=batch.pk),
        )
