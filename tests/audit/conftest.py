"""Builders for the audit tests: history rows with a chosen actor, reason and date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from bureaus.models import Bureau, Inquiry, Submission
from consentoffice.core.history import save_tracked, system_user
from members import models as m
from members.services import record_access
from requests.models import CorrectionItem, DeletionItem, DisclosurePackage, Ticket
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory, current_version


def at(days_ago: float = 0, hour: int = 12) -> datetime:
    """A fixed instant ``days_ago`` days before today, at ``hour`` o'clock Japan time."""
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def track(obj, *, user, reason: str, when: datetime | None = None):
    """Save ``obj`` so its history row names ``user``, ``reason`` and (optionally) the date."""
    if when is not None:
        obj._history_date = when
    return save_tracked(obj, actor=user, reason=reason, clean=False)


def member_with_everything(actor) -> m.Member:
    """A member with one row in every history table that belongs to a member, and an access entry.

    Rows are created with ``objects.create`` (simple-history records them); the point is the
    audit trail's coverage, not the business flows (tested in their own apps)."""
    member = MemberFactory()
    contract = ContractFactory(member=member)
    version = current_version()
    affiliate = AffiliateFactory()
    purpose = m.Purpose.objects.order_by("id").first()
    m.Consent.objects.create(member=member, purpose=purpose, granted=True, version=version, source="web")
    m.ContactRecord.objects.create(member=member, channel="phone", summary="問い合わせ")
    contractor = m.Contractor.objects.create(name=f"回収会社{member.pk}", business="債権回収")
    m.Entrustment.objects.create(
        contractor=contractor, member=member, purpose="回収", provided_on=date(2025, 1, 1)
    )
    m.FinancialDeclaration.objects.create(member=member, declared_on=date(2025, 1, 1), annual_income=5000000)
    m.IdentityDocument.objects.create(member=member, kind="passport", number="TK1234567", verified_by=actor)
    m.OnlineAuthEvent.objects.create(member=member, kind="login")
    m.PartnerSyncEvent.objects.create(member=member, affiliate=affiliate, payload={"changes": {}})
    m.PaymentRecord.objects.create(contract=contract, month=date(2025, 1, 1), status_code="$")
    m.ProvisionRecord.objects.create(
        member=member,
        recipient_kind="bureau",
        recipient="CIC",
        provided_on=date(2025, 1, 1),
        basis="consent",
        kept_until=date(2028, 1, 1),
    )
    m.PublicRecord.objects.create(member=member, source="gazette", summary="官報", found_on=date(2025, 1, 1))
    bureau = Bureau.objects.order_by("code").first()
    inquiry = Inquiry.objects.create(
        bureau=bureau, member=member, contract=contract, operator=actor, purpose="ability_to_pay"
    )
    Submission.objects.create(
        bureau=bureau,
        member=member,
        contract=contract,
        inquiry=inquiry,
        record_type="application",
        event_date=date(2025, 1, 1),
    )
    ticket = Ticket.objects.create(
        number=f"T{member.pk:08d}", member=member, kind="correction", channel="phone", due_at=timezone.now()
    )
    CorrectionItem.objects.create(ticket=ticket, field="phone", requested_value="0311112222")
    DeletionItem.objects.create(ticket=ticket, target="contact_records")
    DisclosurePackage.objects.create(ticket=ticket, file="x.zip", sha256="0" * 64, size=1, created_by=actor)
    m.LegalHold.objects.create(
        member=member, reason_kind="litigation", note="令和7年(ワ)第1号", placed_by=actor
    )
    record_access(user=actor, action="view", member=member, detail="test")
    return member


@pytest.fixture
def system(db):
    return system_user()
