"""Erasure, anonymization and the stop of provision (APPI Art. 35, clause Art. 7)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from consentoffice.core.history import amend_history, save_tracked
from members.models import (
    ContactRecord,
    Contract,
    FinancialDeclaration,
    IdentityDocument,
    Member,
    MemberStatus,
    OnlineAuthEvent,
    PartnerSyncEvent,
    PublicRecord,
    SyncStatus,
)
from members.services.common import _require_reason, require_perm

ERASED_TEXT = "（削除済み）"
# target -> (model, the field that marks a record as erased, the values that replace what was
# held). History rows of the same records are scrubbed too, so erased data does not live on in the
# audit trail; the erasure itself stays on record as a change with its reason.
ERASABLE: dict[str, tuple[type, str, dict[str, Any]]] = {
    "contact_records": (ContactRecord, "summary", {"summary": ERASED_TEXT, "recording_ref": ""}),
    "public_records": (PublicRecord, "summary", {"summary": ERASED_TEXT}),
    "online_auth_events": (
        OnlineAuthEvent,
        "device",
        {"device": ERASED_TEXT, "ip_address": None, "merchant": ""},
    ),
    "financial_declarations": (
        FinancialDeclaration,
        "note",
        {"note": ERASED_TEXT, "annual_income": 0, "assets": 0, "debts": 0},
    ),
    "identity_documents": (IdentityDocument, "note", {"note": ERASED_TEXT, "number": ""}),
}


def erasable_records(member_ids, target: str):
    """Records of ``target`` for these members that still hold data (not erased yet)."""
    model, marker, _replacement = ERASABLE[target]
    return model.objects.filter(member_id__in=member_ids).exclude(**{marker: ERASED_TEXT})


def erase_member_data(member: Member, *, actor, target: str, reason: str) -> int:
    """Erase one kind of held data of a member; returns how many records were erased.

    Idempotent: records already erased are left alone, so a second run changes nothing.
    """
    require_perm(actor, "members.change_member")
    model, _marker, replacement = ERASABLE[target]
    count = 0
    with transaction.atomic():
        for obj in erasable_records([member.pk], target).select_for_update():
            for field, value in replacement.items():
                setattr(obj, field, value)
            save_tracked(obj, actor=actor, reason=reason, clean=False)
            count += 1
        if count:
            amend_history(
                model.history.model.objects.filter(member_id=member.pk),
                actor=actor,
                reason=reason,
                **replacement,
            )
    return count


ANONYMIZED_VALUES: dict[str, Any] = {
    "family_name": "匿名化済み",
    "given_name": "",
    "family_name_kana": "トクメイ",
    "given_name_kana": "",
    "postal_code": "0000000",
    "city": "",
    "address_line": "",
    "phone": "0000000000",
    "email": "",
    "occupation": "",
    "employer_name": "",
    "household": "",
    "housing": "",
    "transaction_purpose": "",
}


def anonymize_member(member: Member, *, actor, reason: str) -> Member:
    """Replace category ① data once the retention period has passed (clause Art. 7).

    The birth date keeps only its year (statistics); the member's history rows are scrubbed too,
    and so is every trace of the member elsewhere (``erase_member_traces``).
    """
    require_perm(actor, "members.change_member")
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.status == MemberStatus.ANONYMIZED:
            return locked
        erase_member_traces(locked, actor=actor, reason=_require_reason(reason))
        values = {**ANONYMIZED_VALUES, "birth_date": locked.birth_date.replace(month=1, day=1)}
        for field, value in values.items():
            setattr(locked, field, value)
        locked.status = MemberStatus.ANONYMIZED
        save_tracked(locked, actor=actor, reason=_require_reason(reason), clean=False)
        amend_history(Member.history.model.objects.filter(id=locked.pk), actor=actor, reason=reason, **values)
    return locked


def stop_provision(member: Member, *, actor, reason: str) -> Member:
    """Stop provision to third parties (partner sync); events not yet sent are not sent."""
    require_perm(actor, "members.change_member")
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        locked.provision_stopped = True
        save_tracked(locked, actor=actor, reason=_require_reason(reason), clean=False)
        # Stop notices already queued still go: the affiliate must learn of every stop.
        for event in (
            PartnerSyncEvent.objects.select_for_update()
            .filter(member=locked, status=SyncStatus.PENDING)
            .exclude(payload__has_key="stops")
        ):
            event.status = SyncStatus.DEAD
            event.last_error = "provision stopped"
            save_tracked(event, actor=actor, reason=reason, clean=False)
    member.provision_stopped = True
    return locked


# What an erased outbox event carries instead of the changes it held.
ERASED_PAYLOAD: dict[str, Any] = {"erased": True}


def erase_member_traces(member: Member, *, actor, reason: str) -> int:
    """Erase what is held on the member outside the category tables (APPI Art. 35, clause Art. 7):
    partner-sync payloads, the settlement account, what other apps hold (``keeping.ERASERS``:
    correction values, ticket texts, disclosure files, bureau snapshots), the admin log's object
    names and notifications naming the member. History rows go through ``amend_history`` so the
    audit seal still verifies. Idempotent; returns how many rows or files changed.

    Runs before the attributes are anonymized: the member's name is what it looks for.
    """
    from members import keeping

    count = 0
    with transaction.atomic():
        for event in (
            PartnerSyncEvent.objects.select_for_update().filter(member=member).exclude(payload=ERASED_PAYLOAD)
        ):
            event.payload = ERASED_PAYLOAD
            if event.status == SyncStatus.PENDING:
                event.status = SyncStatus.DEAD
                event.last_error = "erased"
            save_tracked(event, actor=actor, reason=reason, clean=False)
            count += 1
        amend_history(
            PartnerSyncEvent.history.model.objects.filter(member_id=member.pk).exclude(
                payload=ERASED_PAYLOAD
            ),
            actor=actor,
            reason=reason,
            payload=ERASED_PAYLOAD,
        )
        for contract in (
            Contract.objects.select_for_update().filter(member=member).exclude(settlement_account="")
        ):
            contract.settlement_account = ""
            save_tracked(contract, actor=actor, reason=reason, clean=False)
            count += 1
        contract_history = Contract.history.model.objects.filter(member_id=member.pk)
        amend_history(
            contract_history.filter(pk__in=[row.pk for row in contract_history if row.settlement_account]),
            actor=actor,
            reason=reason,
            settlement_account="",
        )
        for eraser in keeping.ERASERS.values():
            count += eraser(member, actor=actor, reason=reason)
        count += _erase_admin_log_names(member)
        count += _erase_notifications(member)
    return count


def _member_objects(member: Member) -> list[tuple[type, list[int]]]:
    """(model, ids) of every tracked model's rows that belong to the member."""
    from consentoffice.audit.selectors import tracked_models

    found = []
    for tracked in tracked_models():
        if tracked.member_path is None:
            continue
        ids = list(
            tracked.model.objects.filter(**{tracked.member_path: member.pk}).values_list("pk", flat=True)
        )
        if ids:
            found.append((tracked.model, ids))
    return found


def _erase_admin_log_names(member: Member) -> int:
    """Django admin's LogEntry keeps ``str(obj)`` (a member's name) as ``object_repr``."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    count = 0
    for model, ids in _member_objects(member):
        count += (
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model), object_id__in=[str(i) for i in ids]
            )
            .exclude(object_repr=ERASED_TEXT)
            .update(object_repr=ERASED_TEXT)
        )
    return count


def _erase_notifications(member: Member) -> int:
    """Notifications hold numbers and links only; one that names the member anyway (its number,
    its name, or a record of the member as subject) loses its title."""
    from consentoffice.core.notifications import subject_of
    from consentoffice.models import Notification

    names = Q(title__contains=member.member_no)
    for name in {member.full_name.strip(), member.family_name.strip()} - {""}:
        if len(name) >= 2:
            names |= Q(title__contains=name)
    subjects = [subject_of(member)]
    for model, ids in _member_objects(member):
        subjects += [f"{model._meta.label_lower}:{pk}" for pk in ids]
    return (
        Notification.objects.filter(names | Q(subject__in=subjects))
        .exclude(title=ERASED_TEXT)
        .update(title=ERASED_TEXT)
    )
