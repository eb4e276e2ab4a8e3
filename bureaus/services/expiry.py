"""Registration periods ending: registrations past their ``registered_until`` become expired."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from bureaus.models import Submission, SubmissionStatus
from bureaus.services.common import CHUNK_SIZE
from consentoffice.core.i18n import record_text
from members.services import require_perm


def expire_registrations(*, actor, today: date | None = None) -> int:
    """Mark registrations whose period has passed (registered_until < today) as expired.

    A conditional update in chunks that writes one history row per record (bulk, with the
    actor and the reason), so a member's disclosure shows when each registration lapsed.
    Idempotent: expired rows no longer match; rows another worker holds are skipped.
    """
    require_perm(actor, "bureaus.change_submission")
    today = today or timezone.localdate()
    expirable = [
        s for s in SubmissionStatus.values if s not in (SubmissionStatus.EXPIRED, SubmissionStatus.SUPERSEDED)
    ]
    total = 0
    while True:
        with transaction.atomic():
            chunk = list(
                Submission.objects.select_for_update(skip_locked=True)
                .filter(status__in=expirable, registered_until__lt=today)
                .order_by("pk")[:CHUNK_SIZE]
            )
            if not chunk:
                return total
            for submission in chunk:
                submission.status = SubmissionStatus.EXPIRED
            bulk_update_with_history(
                chunk,
                Submission,
                ["status"],
                default_user=actor,
                default_change_reason=record_text("登録期間の満了"),
            )
            total += len(chunk)
