"""Every write to bureau data (clause Art. 3): inquiries, registrations, batch files, responses.

Registrations (``Submission``) are created from contract events by the ``record_*`` functions.
They are consequences of acts already authorised elsewhere (an approved correction, a formed
contract, a monthly payment run), so they check no permission of their own; the acts an
operator starts here (inquiry, resubmission, deletion, batches, response import) do.
The ``members`` app never imports this module: bureaus depends on members, not the reverse.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files import File
from django.core.files.storage import storages
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_update_with_history

from bureaus import fileformat, rules
from bureaus.models import (
    LIVE_STATUSES,
    BatchStatus,
    Bureau,
    BureauKind,
    Inquiry,
    InquiryPurpose,
    RecordType,
    Submission,
    SubmissionBatch,
    SubmissionStatus,
)
from consentoffice import roles
from consentoffice.audit import copy_to_history, history_select, save_tracked
from consentoffice.dates import period_end
from consentoffice.i18n import record_text
from consentoffice.models import Notification
from consentoffice.services import notify_roles
from members.models import Contract, Member, PaymentRecord, ProvisionBasis, ProvisionRecord, RecipientKind
from members.services import PROVISION_RECORD_YEARS, record_provisions_bulk, require_perm

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
# Submissions claimed and encoded per statement when a batch file is built (see ``_claim_into``).
CLAIM_CHUNK = 5000
PRIVATE_STORAGE = "private"

# Contract events a caller may record (the others come from inquiries, corrections, deletions).
CONTRACT_EVENT_TYPES = frozenset(
    {
        RecordType.CONTRACT,
        RecordType.CONTRACT_END,
        RecordType.DELINQUENCY,
        RecordType.DELINQUENCY_RESOLVED,
        RecordType.COLLECTION,
        RecordType.DEBT_SETTLEMENT,
        RecordType.GUARANTEE_PERFORMANCE,
        RecordType.FORCED_CANCELLATION,
        RecordType.BANKRUPTCY,
        RecordType.CREDIT_TRANSFER,
    }
)
# Records whose lapse date follows the member's other registrations (identity data).
DEPENDENT_TYPES = frozenset(
    rt for (_code, rt), (anchor, _m) in rules.RULES.items() if anchor is rules.Anchor.REGISTRATIONS
)
# Record types a fact may be registered once per (contract, bureau, day) (see the model constraint).
REPEATABLE_TYPES = frozenset({RecordType.IDENTITY, RecordType.CORRECTION, RecordType.DELETION})
# The items of a provision record (第三者提供記録) per record type; identity data goes with every record.
IDENTITY_ITEM = gettext_lazy("本人を特定するための情報（氏名・生年月日・性別・住所・電話番号・勤務先）")
PROVIDED_ITEMS: dict[str, Any] = {
    RecordType.APPLICATION: gettext_lazy("申込みをした事実"),
    RecordType.CONTRACT: gettext_lazy("契約内容に関する情報"),
    RecordType.CONTRACT_END: gettext_lazy("契約内容に関する情報"),
    RecordType.PAYMENT: gettext_lazy("返済状況に関する情報"),
    RecordType.DELINQUENCY: gettext_lazy("返済状況に関する情報（延滞）"),
    RecordType.DELINQUENCY_RESOLVED: gettext_lazy("返済状況に関する情報（延滞解消）"),
    RecordType.COLLECTION: gettext_lazy("取引事実に関する情報"),
    RecordType.DEBT_SETTLEMENT: gettext_lazy("取引事実に関する情報"),
    RecordType.GUARANTEE_PERFORMANCE: gettext_lazy("取引事実に関する情報"),
    RecordType.FORCED_CANCELLATION: gettext_lazy("取引事実に関する情報"),
    RecordType.BANKRUPTCY: gettext_lazy("取引事実に関する情報"),
    RecordType.CREDIT_TRANSFER: gettext_lazy("取引事実に関する情報（債権譲渡）"),
    RecordType.IDENTITY: IDENTITY_ITEM,
    RecordType.CORRECTION: gettext_lazy("本人を特定するための情報の訂正"),
    RecordType.DELETION: gettext_lazy("登録情報の削除の依頼"),
}


# --- snapshots (what is registered; never an encrypted value) --------------------------------


def _wire(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def identity_snapshot(member: Member) -> dict[str, Any]:
    return {field: _wire(getattr(member, field)) for field in fileformat.IDENTITY_FIELDS}


def contract_snapshot(contract: Contract) -> dict[str, Any]:
    return {
        "contract_no": contract.contract_no,
        "kind": contract.kind,
        "product_name": contract.product_name,
        "applied_on": _wire(contract.applied_on),
        "contracted_on": _wire(contract.contracted_on),
        "ended_on": _wire(contract.ended_on),
        "credit_limit": contract.credit_limit,
        "installments": contract.installments,
        "status": contract.status,
    }


def payment_snapshot(payment: PaymentRecord) -> dict[str, Any]:
    return {
        "month": _wire(payment.month),
        "status_code": payment.status_code,
        "billed_amount": payment.billed_amount,
        "paid_amount": payment.paid_amount,
        "balance": payment.balance,
        "days_overdue": payment.days_overdue,
    }


def build_payload(
    *, member: Member, contract: Contract | None = None, payment: PaymentRecord | None = None, **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {"member_no": member.member_no, "identity": identity_snapshot(member)}
    if contract is not None:
        payload["contract"] = contract_snapshot(contract)
    if payment is not None:
        payload["payment"] = payment_snapshot(payment)
    payload.update(extra)
    return payload


# --- creating submissions ---------------------------------------------------------------------


def member_bureaus(record_type: str) -> list[Bureau]:
    """Member bureaus that register this kind of fact (KSC, the partner bureau, registers nothing)."""
    return [
        bureau
        for bureau in Bureau.objects.filter(kind=BureauKind.MEMBER).order_by("id")
        if rules.is_registered(bureau, record_type)
    ]


def _other_dates(member_id: int, bureau_id: int) -> list[date | None]:
    return list(
        Submission.objects.filter(member_id=member_id, bureau_id=bureau_id, status__in=LIVE_STATUSES)
        .exclude(record_type__in=DEPENDENT_TYPES | {RecordType.DELETION})
        .values_list("registered_until", flat=True)
    )


def _lapse_date(
    *, bureau: Bureau, record_type: str, event_date: date, member_id: int, contract: Contract | None
) -> date | None:
    others = _other_dates(member_id, bureau.pk) if record_type in DEPENDENT_TYPES else None
    return rules.registered_until(
        bureau=bureau,
        record_type=record_type,
        event_date=event_date,
        contract_end=contract.ended_on if contract is not None else None,
        others=others,
    )


def _create_submission(
    *,
    actor,
    bureau: Bureau,
    member: Member,
    record_type: str,
    event_date: date,
    payload: dict[str, Any],
    reason: str,
    contract: Contract | None = None,
    inquiry: Inquiry | None = None,
    original: Submission | None = None,
) -> Submission:
    """A pending submission; a fact already registered (live) for the same day is returned as is."""
    if record_type not in REPEATABLE_TYPES:
        existing = Submission.objects.filter(
            contract=contract,
            bureau=bureau,
            record_type=record_type,
            event_date=event_date,
            status__in=LIVE_STATUSES,
        ).first()
        if existing is not None:
            return existing
    submission = Submission(
        bureau=bureau,
        member=member,
        contract=contract,
        inquiry=inquiry,
        record_type=record_type,
        event_date=event_date,
        registered_until=_lapse_date(
            bureau=bureau,
            record_type=record_type,
            event_date=event_date,
            member_id=member.pk,
            contract=contract,
        ),
        payload=payload,
        original=original,
    )
    return save_tracked(submission, actor=actor, reason=reason)


def make_inquiry(
    *, actor, contract: Contract, bureau: Bureau | str, purpose: str, inquired_at: datetime | None = None
) -> Inquiry:
    """照会 (clause Art. 3(1)): log the inquiry and register the application fact (6 months).

    割賦販売法 and 貸金業法 allow bureau data to be used only to examine the member's ability to
    pay (支払能力の調査); any other purpose is refused.
    """
    require_perm(actor, "bureaus.add_inquiry")
    if purpose != InquiryPurpose.ABILITY_TO_PAY:
        raise ValidationError(
            {
                "purpose": _(
                    "個人信用情報機関への照会は、支払能力の調査のためにだけ行えます（割賦販売法・貸金業法）。"
                )
            }
        )
    bureau = _bureau(bureau)
    inquired_at = inquired_at or timezone.now()
    with transaction.atomic():
        contract = Contract.objects.select_related("member").get(pk=contract.pk)
        inquiry = save_tracked(
            Inquiry(
                bureau=bureau,
                member=contract.member,
                contract=contract,
                operator=actor,
                purpose=purpose,
                inquired_at=inquired_at,
            ),
            actor=actor,
            reason=record_text("個人信用情報機関へ照会（支払能力の調査）"),
        )
        if rules.is_registered(bureau, RecordType.APPLICATION):
            _create_submission(
                actor=actor,
                bureau=bureau,
                member=contract.member,
                contract=contract,
                inquiry=inquiry,
                record_type=RecordType.APPLICATION,
                event_date=timezone.localdate(inquired_at),
                payload=build_payload(member=contract.member, contract=contract),
                reason=record_text("照会により申込みの事実を登録"),
            )
    return inquiry


def _bureau(bureau: Bureau | str) -> Bureau:
    if isinstance(bureau, Bureau):
        return bureau
    try:
        return Bureau.objects.get(code=bureau)
    except Bureau.DoesNotExist:
        raise ValidationError({"bureau": _("個人信用情報機関が不明です。")}) from None


def record_contract_event(
    *, actor, contract: Contract, record_type: str, event_date: date | None = None, reason: str = ""
) -> list[Submission]:
    """Register a contract fact at every member bureau whose table names it.

    At the end of a contract the facts registered while it ran get their lapse date
    (契約終了後5年), and so does the identity data that follows them.
    """
    if record_type not in CONTRACT_EVENT_TYPES:
        raise ValidationError({"record_type": _("この種別は契約の事実として登録できません。")})
    with transaction.atomic():
        contract = (
            Contract.objects.select_related("member").select_for_update(of=("self",)).get(pk=contract.pk)
        )
        if record_type == RecordType.CONTRACT_END and contract.ended_on is None:
            raise ValidationError({"record_type": _("終了していない契約の終了は登録できません。")})
        default_date = {
            RecordType.CONTRACT: contract.contracted_on,
            RecordType.CONTRACT_END: contract.ended_on,
        }
        event_date = event_date or default_date.get(record_type) or timezone.localdate()
        label = RecordType(record_type).label
        created = [
            _create_submission(
                actor=actor,
                bureau=bureau,
                member=contract.member,
                contract=contract,
                record_type=record_type,
                event_date=event_date,
                payload=build_payload(member=contract.member, contract=contract),
                reason=reason or record_text("契約の事実を登録: %(type)s") % {"type": label},
            )
            for bureau in member_bureaus(record_type)
        ]
        if record_type == RecordType.CONTRACT_END:
            _start_lapse_after_contract_end(contract, actor=actor)
    return created


def _start_lapse_after_contract_end(contract: Contract, *, actor) -> None:
    codes = dict(Bureau.objects.values_list("id", "code"))
    changed = []
    for submission in (
        Submission.objects.select_for_update()
        .filter(contract=contract, registered_until__isnull=True)
        .exclude(status__in=[SubmissionStatus.EXPIRED, SubmissionStatus.SUPERSEDED])
    ):
        anchor, _months = rules.rule_for(codes[submission.bureau_id], submission.record_type)
        if anchor is rules.Anchor.CONTRACT_END:
            submission.registered_until = rules.registered_until(
                bureau=codes[submission.bureau_id],
                record_type=submission.record_type,
                event_date=submission.event_date,
                contract_end=contract.ended_on,
            )
            changed.append(submission)
    if changed:
        bulk_update_with_history(
            changed,
            Submission,
            ["registered_until"],
            default_user=actor,
            default_change_reason=record_text("契約終了により登録期限が確定"),
        )
    for bureau_id in codes:
        refresh_identity_lapse(member_id=contract.member_id, bureau_id=bureau_id, actor=actor)


def refresh_identity_lapse(*, member_id: int, bureau_id: int, actor) -> int:
    """Identity data (and its corrections) lapses with the member's last other registration."""
    others = _other_dates(member_id, bureau_id)
    changed = []
    for submission in (
        Submission.objects.select_for_update()
        .select_related("bureau")
        .filter(
            member_id=member_id,
            bureau_id=bureau_id,
            record_type__in=DEPENDENT_TYPES,
            status__in=LIVE_STATUSES,
        )
    ):
        until = rules.registered_until(
            bureau=submission.bureau,
            record_type=submission.record_type,
            event_date=submission.event_date,
            others=others,
        )
        if until != submission.registered_until:
            submission.registered_until = until
            changed.append(submission)
    if changed:
        bulk_update_with_history(
            changed,
            Submission,
            ["registered_until"],
            default_user=actor,
            default_change_reason=record_text("他の登録情報に合わせて本人特定情報の登録期限を更新"),
        )
    return len(changed)


def is_adverse(payment: PaymentRecord) -> bool:
    """異動: 61 days overdue, or unpaid three months running (rules.ADVERSE_*)."""
    if payment.days_overdue >= rules.ADVERSE_DAYS_OVERDUE:
        return True
    recent = list(
        PaymentRecord.objects.filter(contract_id=payment.contract_id, month__lte=payment.month)
        .order_by("-month")
        .values_list("status_code", flat=True)[: rules.ADVERSE_MONTHS_UNPAID]
    )
    return len(recent) == rules.ADVERSE_MONTHS_UNPAID and all(
        code in rules.UNPAID_STATUS_CODES for code in recent
    )


def delinquency_open(contract: Contract, bureau: Bureau) -> bool:
    """Whether the latest live delinquency fact at this bureau has not been resolved."""
    latest = (
        Submission.objects.filter(
            contract=contract,
            bureau=bureau,
            status__in=LIVE_STATUSES,
            record_type__in=[RecordType.DELINQUENCY, RecordType.DELINQUENCY_RESOLVED],
        )
        .order_by("-event_date", "-id")
        .values_list("record_type", flat=True)
        .first()
    )
    return latest == RecordType.DELINQUENCY


def record_payment_status(*, actor, payment: PaymentRecord) -> list[Submission]:
    """Register a month's payment status (③); an adverse month also registers the delinquency
    (異動), and a month paid in full after one registers its resolution (延滞解消)."""
    with transaction.atomic():
        payment = PaymentRecord.objects.select_related("contract__member").get(pk=payment.pk)
        contract = payment.contract
        member = contract.member
        adverse = is_adverse(payment)
        settled = payment.status_code in rules.PAID_STATUS_CODES and payment.days_overdue == 0
        created = []
        for bureau in member_bureaus(RecordType.PAYMENT):
            payload = build_payload(member=member, contract=contract, payment=payment)
            created.append(
                _create_submission(
                    actor=actor,
                    bureau=bureau,
                    member=member,
                    contract=contract,
                    record_type=RecordType.PAYMENT,
                    event_date=payment.month,
                    payload=payload,
                    reason=record_text("月次の返済状況を登録"),
                )
            )
            follow_up = None
            if adverse and not delinquency_open(contract, bureau):
                follow_up, reason = RecordType.DELINQUENCY, _("延滞（異動）を登録")
            elif settled and delinquency_open(contract, bureau):
                follow_up, reason = RecordType.DELINQUENCY_RESOLVED, _("延滞解消を登録")
            if follow_up and rules.is_registered(bureau, follow_up):
                created.append(
                    _create_submission(
                        actor=actor,
                        bureau=bureau,
                        member=member,
                        contract=contract,
                        record_type=follow_up,
                        event_date=payment.month,
                        payload=payload,
                        reason=reason,
                    )
                )
    return created


def record_member_correction(
    *, actor, member: Member, fields: Iterable[str], reason: str
) -> list[Submission]:
    """A corrected category ① item (APPI Art. 34; clause Art. 4) that a bureau holds is corrected
    there too: one correction submission per bureau where the member has a live registration."""
    changed = [field for field in fileformat.IDENTITY_FIELDS if field in set(fields)]
    if not changed:
        return []
    with transaction.atomic():
        member = Member.objects.get(pk=member.pk)
        bureau_ids = (
            Submission.objects.filter(member=member, status__in=LIVE_STATUSES)
            .exclude(record_type=RecordType.DELETION)
            .values("bureau_id")
        )
        created = []
        for bureau in Bureau.objects.filter(pk__in=bureau_ids).order_by("id"):
            if not rules.is_registered(bureau, RecordType.CORRECTION):
                continue
            payload = build_payload(
                member=member,
                changed_fields=changed,
                changes={field: _wire(getattr(member, field)) for field in changed},
            )
            created.append(
                _create_submission(
                    actor=actor,
                    bureau=bureau,
                    member=member,
                    record_type=RecordType.CORRECTION,
                    event_date=timezone.localdate(),
                    payload=payload,
                    reason=reason,
                )
            )
    return created


def record_deletion(*, actor, submission: Submission, reason: str) -> Submission:
    """Ask the bureau to delete a wrong registration (clause Art. 4): the original is superseded."""
    require_perm(actor, "bureaus.change_submission")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("削除の理由を入力してください。")})
    with transaction.atomic():
        original = (
            Submission.objects.select_for_update().select_related("member", "bureau").get(pk=submission.pk)
        )
        if original.status not in LIVE_STATUSES or original.record_type == RecordType.DELETION:
            raise ValidationError(_("登録中または送信待ちの登録情報だけが削除を依頼できます。"))
        deletion = _create_submission(
            actor=actor,
            bureau=original.bureau,
            member=original.member,
            contract=original.contract,
            record_type=RecordType.DELETION,
            event_date=timezone.localdate(),
            payload={**original.payload, "deleted_record_type": original.record_type},
            reason=reason,
            original=original,
        )
        original.status = SubmissionStatus.SUPERSEDED
        save_tracked(original, actor=actor, reason=reason, clean=False)
    return deletion


def resubmit(*, actor, submission: Submission, reason: str = "") -> Submission:
    """A rejected record, fixed by the operator in the member data, goes out again: a new pending
    submission with a fresh snapshot, linked to the rejected one (which is superseded)."""
    require_perm(actor, "bureaus.change_submission")
    with transaction.atomic():
        original = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("member", "bureau", "contract")
            .get(pk=submission.pk)
        )
        if original.status != SubmissionStatus.REJECTED:
            raise ValidationError(_("返却された登録情報だけが再送できます。"))
        payload = _fresh_payload(original)
        new = _create_submission(
            actor=actor,
            bureau=original.bureau,
            member=original.member,
            contract=original.contract,
            inquiry=original.inquiry,
            record_type=original.record_type,
            event_date=original.event_date,
            payload=payload,
            reason=reason or record_text("返却された登録情報を修正して再送"),
            original=original,
        )
        original.status = SubmissionStatus.SUPERSEDED
        save_tracked(original, actor=actor, reason=reason or record_text("再送により置換"), clean=False)
    return new


def _fresh_payload(original: Submission) -> dict[str, Any]:
    old = original.payload
    member = original.member
    contract = original.contract
    payment = None
    if old.get("payment") and contract is not None:
        payment = PaymentRecord.objects.filter(contract=contract, month=old["payment"]["month"]).first()
    extra = {key: old[key] for key in ("changed_fields", "deleted_record_type") if key in old}
    if "changes" in old:
        extra["changes"] = {field: _wire(getattr(member, field)) for field in old["changes"]}
    return build_payload(member=member, contract=contract, payment=payment, **extra)


# --- batch files ------------------------------------------------------------------------------


def build_batches(*, actor, now: datetime | None = None) -> list[SubmissionBatch]:
    """One registration file per member bureau holding its pending submissions (idempotent:
    nothing pending, no file). Rows another worker has claimed are skipped, not waited for."""
    require_perm(actor, "bureaus.add_submissionbatch")
    now = now or timezone.now()
    batches = []
    for bureau in Bureau.objects.filter(kind=BureauKind.MEMBER).order_by("id"):
        if not Submission.objects.filter(bureau=bureau, status=SubmissionStatus.PENDING).exists():
            continue
        batch = _build_batch(bureau, actor=actor, now=now)
        if batch is not None:
            batches.append(batch)
    return batches


def _build_batch(bureau: Bureau, *, actor, now: datetime) -> SubmissionBatch | None:
    storage = storages[PRIVATE_STORAGE]
    saved_name = None
    try:
        with transaction.atomic(), _Spool() as spool:
            batch = save_tracked(
                SubmissionBatch(bureau=bureau, created_at=now, created_by=actor),
                actor=actor,
                reason=record_text("登録ファイルを作成"),
            )
            writer = fileformat.BatchWriter(spool.file)
            writer.header(
                bureau_code=bureau.code,
                sender_code=getattr(settings, "BUREAU_SENDER_CODE", ""),
                batch_id=batch.pk,
                created_at=timezone.localtime(now),
            )
            count = _claim_into(writer, bureau=bureau, batch=batch, actor=actor)
            if not count:
                transaction.set_rollback(True)
                return None
            writer.trailer()
            local = timezone.localtime(now)
            saved_name = storage.save(
                f"bureaus/{bureau.code}/{local:%Y%m%d}/{bureau.code}-{batch.pk:08d}.dat", spool.finished()
            )
            batch.file_name = saved_name
            batch.record_count = count
            batch.sha256 = writer.sha256
            save_tracked(batch, actor=actor, reason=record_text("登録ファイルを作成"))
            _record_provisions(batch, actor=actor, provided_on=timezone.localdate(now))
    except Exception:
        if saved_name:
            storage.delete(saved_name)
        raise
    logger.info("bureau batch %s built: %s records", batch.pk, batch.record_count)
    return batch


class _Spool(File):
    """The file being written, in the temporary folder; a file-system storage moves the finished
    file into place (``temporary_file_path``) instead of copying hundreds of megabytes."""

    def __init__(self) -> None:
        super().__init__(tempfile.NamedTemporaryFile(prefix="bureau-", suffix=".dat", delete=False))

    def temporary_file_path(self) -> str:
        return self.file.name

    def finished(self) -> _Spool:
        self.file.flush()
        self.file.seek(0)
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.file.name)


def _set_based() -> bool:
    """PostgreSQL claims and records in single statements; other databases (SQLite for a laptop)
    take the portable ORM path, which tests also run on PostgreSQL to keep both alike."""
    return connection.vendor == "postgresql"


class _Chunk:
    """A claimed chunk: the id of its last row (``None``: nothing was claimed) and ``rows()``, the
    rows of its data records (``fileformat.ROW_FIELDS``). On PostgreSQL the rows stay in the
    cursor's result until ``rows()`` converts them, which the encoder thread does while the main
    thread already claims the next chunk on another cursor."""

    def __init__(self, last: int | None, rows: Any) -> None:
        self.last = last
        self.rows = rows


def _claim_chunk(
    *, bureau: Bureau, batch: SubmissionBatch, after: int, actor, reason: str, at: datetime, cursor=None
) -> _Chunk:
    """Claim the next ``CLAIM_CHUNK`` pending submissions of the bureau in id order: rows another
    worker holds are skipped, not waited for; they are marked batched and get their history rows."""
    if _set_based():
        sql, history_params = _claim_sql(actor=actor, reason=reason, at=at)
        cursor.execute(
            sql,
            [SubmissionStatus.BATCHED, batch.pk, bureau.pk, SubmissionStatus.PENDING, after, CLAIM_CHUNK]
            + history_params,
        )
        if not cursor.rowcount:
            return _Chunk(None, list)
        # The id of the last row (in id order) without converting the others.
        cursor.scroll(cursor.rowcount - 1, mode="absolute")
        last = cursor.fetchone()[0]
        cursor.scroll(0, mode="absolute")
        return _Chunk(last, cursor.fetchall)
    ids = list(
        Submission.objects.select_for_update(skip_locked=True)
        .filter(bureau=bureau, status=SubmissionStatus.PENDING, pk__gt=after)
        .order_by("pk")
        .values_list("pk", flat=True)[:CLAIM_CHUNK]
    )
    if not ids:
        return _Chunk(None, list)
    Submission.objects.filter(pk__in=ids, status=SubmissionStatus.PENDING).update(
        status=SubmissionStatus.BATCHED, batch=batch
    )
    claimed = Submission.objects.filter(pk__in=ids, batch=batch)
    copy_to_history(claimed, actor=actor, reason=reason, at=at)
    # The payload is read whole and picked apart in Python (``fileformat.payload_row``): SQLite's
    # JSON key lookups return the text 'null' for a JSON null (a running contract's ``ended_on``).
    rows = claimed.order_by("pk").values_list(
        "pk", "record_type", "event_date", "registered_until", "original_id", "payload"
    )
    found = [
        fileformat.payload_row(
            submission_id=pk,
            record_type=record_type,
            event_date=event_date,
            registered_until=registered_until,
            original_id=original_id,
            payload=payload,
        )
        for pk, record_type, event_date, registered_until, original_id, payload in rows
    ]
    if not found:
        return _Chunk(None, list)
    return _Chunk(found[-1][0], lambda: found)


def _claim_sql(*, actor, reason: str, at: datetime) -> tuple[str, list]:
    """PostgreSQL does a chunk in one statement, reading each row once: the UPDATE of the rows
    locked (SKIP LOCKED) in id order returns them to the history INSERT and to the SELECT of the
    data record values (the payload paths of ``fileformat.PAYLOAD_PATHS``).

    The UPDATE finds the locked rows by their physical address (``ctid``, a TID scan), not by a
    second look-up of each id in the primary key: a locked row cannot move. A row another
    transaction changed (and committed) after this statement began is locked in its new version,
    which this statement does not see, so it is not updated: it stays pending for the next run,
    like a row another worker holds.

    The key columns of the member and contract indexes are set to themselves
    (``UNCHANGED_KEY_COLUMNS``): PostgreSQL (14+) takes an index whose key columns an UPDATE does
    not name as "logically unchanged" and, when a leaf page of it fills up, first tries to delete
    older versions of the same rows from the page (bottom-up deletion, a visit to their heap
    pages). Here the older versions are this transaction's own and can never be deleted, so every
    such try is wasted; naming the columns skips it (the values, the indexes and the foreign key
    checks are the same)."""
    quote = connection.ops.quote_name
    table = quote(Submission._meta.db_table)
    columns, values, params = history_select(
        Submission, connection, actor=actor, reason=reason, history_type="~", at=at
    )
    row = [f"source.{quote(Submission._meta.pk.column)}"]
    row += [f"source.{quote(name)}" for name in fileformat.SUBMISSION_COLUMNS[1:]]
    for name, path in fileformat.PAYLOAD_PATHS:
        if not all(key.isidentifier() and key.isascii() for key in path):
            raise ImproperlyConfigured(f"payload path of {name}")
        literal = "'{" + ",".join(path) + "}'"
        json_text = name in fileformat.JSON_FIELDS
        row.append(f"(source.payload #> {literal})::text" if json_text else f"source.payload #>> {literal}")
    unchanged = ", ".join(f"{column} = {column}" for column in map(quote, UNCHANGED_KEY_COLUMNS))
    sql = f"""
        WITH source AS (
            UPDATE {table} SET status = %s, batch_id = %s, {unchanged}
            WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM {table} WHERE bureau_id = %s AND status = %s AND id > %s
                ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
            ))
            RETURNING *
        ), history AS (
            INSERT INTO {quote(Submission.history.model._meta.db_table)} ({columns}) SELECT {values} FROM source
        )
        SELECT {", ".join(row)} FROM source ORDER BY id
    """
    return sql, params


# Columns a claim sets to themselves (see ``_claim_sql``): the keys of the non-unique indexes on
# columns a claim does not change.
UNCHANGED_KEY_COLUMNS = ("member_id", "bureau_id", "contract_id")


def _claim_into(writer: fileformat.BatchWriter, *, bureau: Bureau, batch: SubmissionBatch, actor) -> int:
    """Claim the bureau's pending submissions chunk by chunk and write their data records. A
    second thread converts and encodes one chunk while the database claims the next (on the
    other of two cursors), so the machine's two cores share the work; memory holds at most two
    chunks."""
    reason = record_text("登録ファイル %(batch)s に収録（送信）", batch=batch.pk)
    at = timezone.now()
    written, after, encoding = 0, 0, None
    # The cursors close after the encoder thread has finished with them.
    with (
        contextlib.ExitStack() as stack,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="bureau-file") as encoder,
    ):
        cursors = [stack.enter_context(connection.cursor()) for _n in range(2)] if _set_based() else [None]
        while True:
            chunk = _claim_chunk(
                bureau=bureau,
                batch=batch,
                after=after,
                actor=actor,
                reason=reason,
                at=at,
                cursor=cursors[0],
            )
            if encoding is not None:
                written += encoding.result()
            if chunk.last is None:
                return written
            after = chunk.last
            encoding = encoder.submit(_encode, writer, chunk)
            cursors.reverse()


def _encode(writer: fileformat.BatchWriter, chunk: _Chunk) -> int:
    return writer.rows(chunk.rows())


def _record_provisions(batch: SubmissionBatch, *, actor, provided_on: date) -> int:
    """One provision record (第三者提供記録; APPI Art. 29, consent-based, clause Art. 3) per member
    in the batch, with its history row: the items are the identity data and the kinds of facts
    sent (``PROVIDED_ITEMS``, in record type order, each once). On PostgreSQL one statement
    writes them all; elsewhere ``members.services.record_provisions_bulk`` does, in chunks."""
    reason = record_text("個人信用情報機関への登録（第三者提供記録）")
    if not _set_based():
        return record_provisions_bulk(
            _provision_rows(batch, provided_on=provided_on), actor=actor, reason=reason, batch_size=CHUNK_SIZE
        )
    types = sorted(PROVIDED_ITEMS)
    if len(types) > 31:
        raise ImproperlyConfigured("record types must fit the bits of an integer")
    identity = str(IDENTITY_ITEM)
    basis = ProvisionBasis.CONSENT
    quote = connection.ops.quote_name
    # The history rows come from the INSERT's own rows (as ``copy_to_history`` writes them).
    columns, values, history_params = history_select(
        ProvisionRecord,
        connection,
        actor=actor,
        reason=reason,
        history_type="+",
        at=timezone.now(),
        named=True,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH kinds AS MATERIALIZED (
                -- the record types of each member's records in the batch, as bits (position in types)
                SELECT member_id,
                       COALESCE(bit_or(1 << (array_position(%(types)s::text[], record_type::text) - 1)), 0) AS mask
                FROM {quote(Submission._meta.db_table)} WHERE batch_id = %(batch)s
                GROUP BY member_id
            ), labels AS (
                -- the items of each combination of record types found, made once per combination
                SELECT m.mask, jsonb_build_array(%(identity)s::text) || COALESCE((
                    SELECT jsonb_agg(i.item ORDER BY i.position) FROM (
                        SELECT k.item, min(k.position) AS position
                        FROM unnest(%(types)s::text[], %(items)s::text[]) WITH ORDINALITY
                            AS k(record_type, item, position)
                        WHERE m.mask & (1 << (k.position::int - 1)) <> 0 AND k.item <> %(identity)s
                        GROUP BY k.item
                    ) i), '[]'::jsonb) AS items
                FROM (SELECT DISTINCT mask FROM kinds) m
            ), source AS (
                INSERT INTO {quote(ProvisionRecord._meta.db_table)} (
                    member_id, recipient_kind, recipient, items, provided_on, basis, consent_recorded,
                    kept_until, reference)
                SELECT kinds.member_id, %(recipient_kind)s, %(recipient)s, labels.items,
                       %(provided_on)s, %(basis)s, %(consent_recorded)s, %(kept_until)s, %(reference)s
                FROM kinds JOIN labels ON labels.mask = kinds.mask ORDER BY kinds.member_id
                RETURNING *
            ), history AS (
                INSERT INTO {quote(ProvisionRecord.history.model._meta.db_table)} ({columns})
                SELECT {values} FROM source
            )
            SELECT count(*) FROM source
            """,
            {
                "batch": batch.pk,
                "types": types,
                "items": [str(PROVIDED_ITEMS[record_type]) for record_type in types],
                "identity": identity,
                "recipient_kind": RecipientKind.BUREAU,
                "recipient": batch.bureau.name,
                "provided_on": provided_on,
                "basis": basis,
                "consent_recorded": True,
                "kept_until": period_end(provided_on, years=PROVISION_RECORD_YEARS[basis]),
                "reference": f"bureau-batch:{batch.pk}",
                **history_params,
            },
        )
        return cursor.fetchone()[0]


def _provision_rows(batch: SubmissionBatch, *, provided_on: date) -> Iterator[dict[str, Any]]:
    rows = (
        Submission.objects.filter(batch=batch)
        .order_by("member_id", "record_type")
        .values_list("member_id", "record_type")
        .distinct()
    )
    current, types = None, []
    for member_id, record_type in rows.iterator(chunk_size=CHUNK_SIZE):
        if member_id != current and current is not None:
            yield _provision_row(batch, current, types, provided_on)
            types = []
        current = member_id
        types.append(record_type)
    if current is not None:
        yield _provision_row(batch, current, types, provided_on)


def _provision_row(batch: SubmissionBatch, member_id: int, types: list[str], provided_on: date) -> dict:
    items = [str(IDENTITY_ITEM)]
    for record_type in types:
        item = str(PROVIDED_ITEMS[record_type])
        if item not in items:
            items.append(item)
    return {
        "member_id": member_id,
        "recipient_kind": RecipientKind.BUREAU,
        "recipient": batch.bureau.name,
        "items": items,
        "basis": ProvisionBasis.CONSENT,
        "provided_on": provided_on,
        "reference": f"bureau-batch:{batch.pk}",
    }


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


# --- expiry -----------------------------------------------------------------------------------


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


# --- events not recorded by their callers -----------------------------------------------------


def sweep_contract_events(*, actor) -> int:
    """Register what the members app cannot tell us (it does not import bureaus): a contract
    formed or ended, and monthly payment records, of contracts registered through an inquiry.

    Idempotent (each fact is registered once per contract, bureau and day); run before each batch.
    """
    from django.db.models import Exists, OuterRef

    registered = Submission.objects.filter(contract=OuterRef("pk"), status__in=LIVE_STATUSES)
    count = 0
    formed = (
        Contract.objects.filter(Exists(registered), contracted_on__isnull=False)
        .exclude(Exists(Submission.objects.filter(contract=OuterRef("pk"), record_type=RecordType.CONTRACT)))
        .values_list("pk", flat=True)
    )
    for pk in list(formed):
        count += len(
            record_contract_event(actor=actor, contract=Contract(pk=pk), record_type=RecordType.CONTRACT)
        )
    payments = PaymentRecord.objects.filter(
        Exists(
            Submission.objects.filter(
                contract=OuterRef("contract"), record_type=RecordType.CONTRACT, status__in=LIVE_STATUSES
            )
        )
    ).exclude(
        Exists(
            Submission.objects.filter(
                contract=OuterRef("contract"), record_type=RecordType.PAYMENT, event_date=OuterRef("month")
            )
        )
    )
    for pk in list(payments.order_by("contract_id", "month").values_list("pk", flat=True)):
        count += len(record_payment_status(actor=actor, payment=PaymentRecord(pk=pk)))
    ended = (
        Contract.objects.filter(ended_on__isnull=False)
        .filter(Exists(registered.filter(registered_until__isnull=True)))
        .exclude(
            Exists(Submission.objects.filter(contract=OuterRef("pk"), record_type=RecordType.CONTRACT_END))
        )
        .values_list("pk", flat=True)
    )
    for pk in list(ended):
        count += len(
            record_contract_event(actor=actor, contract=Contract(pk=pk), record_type=RecordType.CONTRACT_END)
        )
    return count
