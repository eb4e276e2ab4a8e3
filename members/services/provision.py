"""Third-party provision records (APPI Art. 29) and entrustment to contractors (Art. 1(2))."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consentoffice.core.dates import period_end
from consentoffice.core.history import copy_to_history, save_tracked
from consentoffice.core.i18n import record_text
from members.models import (
    Contractor,
    Entrustment,
    Member,
    ProvisionBasis,
    ProvisionRecord,
)
from members.services.common import require_perm

# APPI rules Art. 21: provision records are kept 3 years (1 year where the contract is the record).


PROVISION_RECORD_YEARS = {ProvisionBasis.CONSENT: 3, ProvisionBasis.LAW: 3, ProvisionBasis.CONTRACT: 1}


def record_provision(
    *,
    member: Member,
    recipient_kind: str,
    recipient: str,
    items: list[str],
    basis: str,
    provided_on: date | None = None,
    reference: str = "",
    actor=None,
) -> ProvisionRecord:
    provided_on = provided_on or timezone.localdate()
    years = PROVISION_RECORD_YEARS[ProvisionBasis(basis)]
    record = ProvisionRecord(
        member=member,
        recipient_kind=recipient_kind,
        recipient=recipient,
        items=items,
        basis=basis,
        provided_on=provided_on,
        kept_until=period_end(provided_on, years=years),
        reference=reference,
        consent_recorded=basis == ProvisionBasis.CONSENT,
    )
    return save_tracked(record, actor=actor, reason=record_text("第三者提供を記録"))


def save_contractor(
    *, actor, contractor: Contractor | None = None, reason: str = "", **fields: Any
) -> Contractor:
    """Register or change a contractor (委託先) that receives members' data for entrusted work."""
    require_perm(
        actor, "members.change_contractor" if contractor and contractor.pk else "members.add_contractor"
    )
    contractor = contractor or Contractor()
    for field, value in fields.items():
        setattr(contractor, field, value)
    with transaction.atomic():
        return save_tracked(contractor, actor=actor, reason=reason or record_text("委託先の登録・変更"))


def entrust(
    *,
    actor,
    contractor: Contractor,
    member: Member,
    purpose: str,
    items: list[str],
    provided_on: date | None = None,
    reason: str = "",
) -> Entrustment:
    """Record that a member's data went to a contractor (Art. 1(2)); disclosed on request.

    Entrustment needs no provision record (APPI Art. 27(5)(i)), but the company answers for
    its contractors, so who received which items and when is kept here.
    """
    require_perm(actor, "members.add_entrustment")
    if not contractor.active:
        raise ValidationError({"contractor": _("無効な委託先には委託できません。")})
    if not items:
        raise ValidationError({"items": _("提供する項目を選んでください。")})
    entrustment = Entrustment(
        contractor=contractor,
        member=member,
        purpose=purpose,
        items=list(items),
        provided_on=provided_on or timezone.localdate(),
    )
    with transaction.atomic():
        return save_tracked(entrustment, actor=actor, reason=reason or record_text("委託先へ提供"))


def record_provisions_bulk(rows, *, actor=None, reason: str = "", batch_size: int = 2000) -> int:
    """Many provision records at once (a bureau batch file): ``rows`` is an iterable of the keyword
    arguments of ``ProvisionRecord`` (``member`` or ``member_id``, recipient_kind, recipient, items,
    basis, provided_on, reference). Inserted in chunks with their history rows, so memory stays
    bounded however many rows the iterable yields. Returns how many were created.

    Each chunk is one INSERT and one history INSERT … SELECT (``copy_to_history``) of the rows
    it returned; building a history object per row was most of a partner-sync drain's time."""
    from simple_history.utils import bulk_create_with_history

    reason = reason or record_text("第三者提供を記録")
    count = 0
    chunk: list[ProvisionRecord] = []

    def flush() -> None:
        if chunk:
            if not connection.features.can_return_rows_from_bulk_insert:  # SQLite before 3.35
                bulk_create_with_history(
                    chunk,
                    ProvisionRecord,
                    batch_size=batch_size,
                    default_user=actor,
                    default_change_reason=reason,
                )
            else:
                created = ProvisionRecord.objects.bulk_create(chunk, batch_size=batch_size)
                copy_to_history(
                    ProvisionRecord.objects.filter(pk__in=[record.pk for record in created]),
                    actor=actor,
                    reason=reason,
                    history_type="+",
                )
            chunk.clear()

    for row in rows:
        provided_on = row.get("provided_on") or timezone.localdate()
        basis = ProvisionBasis(row["basis"])
        chunk.append(
            ProvisionRecord(
                **{**row, "provided_on": provided_on},
                kept_until=period_end(provided_on, years=PROVISION_RECORD_YEARS[basis]),
                consent_recorded=basis == ProvisionBasis.CONSENT,
            )
        )
        count += 1
        if len(chunk) >= batch_size:
            flush()
    flush()
    return count
