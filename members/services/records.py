"""Categories ③–⑩: one act per kind of record (contacts, documents, declarations, payments)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from consentoffice.core.history import save_tracked
from consentoffice.core.i18n import record_text
from members.models import (
    ContactRecord,
    Contract,
    FinancialDeclaration,
    IdentityDocument,
    Member,
    PaymentRecord,
    PublicRecord,
)
from members.services.common import require_perm


def _record(model, *, actor, perm: str, reason: str, **fields: Any):
    require_perm(actor, perm)
    with transaction.atomic():
        return save_tracked(model(**fields), actor=actor, reason=reason)


def add_contact_record(*, actor, member: Member, channel: str, summary: str, **fields: Any) -> ContactRecord:
    return _record(
        ContactRecord,
        actor=actor,
        perm="members.add_contactrecord",
        reason=record_text("応対記録"),
        member=member,
        channel=channel,
        summary=summary,
        recorded_by=actor,
        **fields,
    )


def add_identity_document(
    *, actor, member: Member, kind: str, number: str = "", **fields: Any
) -> IdentityDocument:
    return _record(
        IdentityDocument,
        actor=actor,
        perm="members.add_identitydocument",
        reason=record_text("本人確認書類を確認"),
        member=member,
        kind=kind,
        number=number,
        verified_by=actor,
        **fields,
    )


def add_financial_declaration(
    *, actor, member: Member, annual_income: int, declared_on: date | None = None, **fields: Any
) -> FinancialDeclaration:
    return _record(
        FinancialDeclaration,
        actor=actor,
        perm="members.add_financialdeclaration",
        reason=record_text("資産・収入等の申告"),
        member=member,
        annual_income=annual_income,
        declared_on=declared_on or timezone.localdate(),
        **fields,
    )


def add_public_record(*, actor, member: Member, source: str, summary: str, found_on: date) -> PublicRecord:
    return _record(
        PublicRecord,
        actor=actor,
        perm="members.add_publicrecord",
        reason=record_text("公開情報を記録"),
        member=member,
        source=source,
        summary=summary,
        found_on=found_on,
    )


def add_payment_record(
    *, actor, contract: Contract, month: date, status_code: str, **fields: Any
) -> PaymentRecord:
    return _record(
        PaymentRecord,
        actor=actor,
        perm="members.add_paymentrecord",
        reason=record_text("支払状況を記録"),
        contract=contract,
        month=month.replace(day=1),
        status_code=status_code,
        **fields,
    )
