"""Registrations (``Submission``) created from contract events, inquiries, corrections and deletions.

The ``record_*`` functions register consequences of acts already authorised elsewhere (an
approved correction, a formed contract, a monthly payment run), so they check no permission of
their own; the acts an operator starts here (inquiry, resubmission, deletion) do.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from bureaus import fileformat, rules
from bureaus.models import (
    LIVE_STATUSES,
    Bureau,
    BureauKind,
    Inquiry,
    InquiryPurpose,
    RecordType,
    Submission,
    SubmissionStatus,
)
from bureaus.services.snapshots import _wire, build_payload
from consentoffice.core.history import save_tracked
from consentoffice.core.i18n import record_text
from members.models import Contract, Member, PaymentRecord
from members.services import require_perm

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
