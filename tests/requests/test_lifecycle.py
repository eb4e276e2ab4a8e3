"""Every kind of ticket walked through its whole life with the services (clause Art. 2(2), 4, 6)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from members.models import Consent, ContactRecord, Member, Purpose
from members.services import ERASED_TEXT
from requests import rules, services
from requests.models import CorrectionItem, DeletionItem, Ticket
from tests.factories import ContactRecordFactory, MemberFactory, grant_all_consents
from tests.requests import open_request, reasons, verified_request

Kind, Status, Outcome = rules.Kind, rules.Status, rules.Outcome
STOP_KINDS = [Kind.USAGE_STOP, Kind.PROVISION_STOP, Kind.MARKETING_STOP]


def assert_every_history_row_names_the_ticket(ticket: Ticket) -> None:
    ticket_reasons = reasons(ticket)
    assert ticket_reasons, "the ticket has no history"
    assert all(reason.startswith(f"{ticket.number} ") for reason in ticket_reasons), ticket_reasons


def assert_approved(ticket: Ticket, *, outcome: str, preparer, approver) -> None:
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.outcome == outcome
    assert ticket.prepared_by == preparer
    assert ticket.approver == approver
    assert ticket.approved_at is not None and ticket.closed_at == ticket.approved_at
    assert_every_history_row_names_the_ticket(ticket)


def test_disclosure_is_verified_paid_packaged_and_delivered_on_approval_by_a_second_person(
    operator, supervisor
):
    member = MemberFactory()
    ticket = open_request(Kind.DISCLOSURE, member=member, actor=operator, response_method="electronic")
    assert ticket.status == Status.RECEIVED
    assert ticket.fee_amount == settings.DISCLOSURE_FEE_YEN

    services.start_verification(ticket, actor=operator)
    assert ticket.status == Status.VERIFYING
    services.verify_identity(ticket, actor=operator, method="passport")
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.identity_verified_by == operator
    services.record_fee_payment(ticket, actor=operator, paid_on=timezone.localdate())
    package = services.build_disclosure_package(ticket, actor=operator)
    assert package.delivered_at is None
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    assert ticket.status == Status.PENDING_APPROVAL
    services.approve(ticket, actor=supervisor)

    assert_approved(ticket, outcome=Outcome.FULFILLED, preparer=operator, approver=supervisor)
    package.refresh_from_db()
    assert package.delivered_at is not None
    assert all(reason.startswith(ticket.number) for reason in reasons(package))


def test_fulfilled_disclosure_needs_the_fee_paid_and_a_package_before_approval_is_asked(operator):
    ticket = verified_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    with pytest.raises(ValidationError, match="手数料"):
        services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.record_fee_payment(ticket, actor=operator, paid_on=timezone.localdate())
    with pytest.raises(ValidationError, match="開示パッケージ"):
        services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_correction_is_applied_to_the_member_with_the_ticket_number_in_its_history(operator, supervisor):
    member = MemberFactory(city="中野区江原町")
    ticket = verified_request(Kind.CORRECTION, member=member, actor=operator)
    item = services.add_correction_item(ticket, field="city", requested_value="中野区江古田", actor=operator)
    services.decide_correction_item(item, actor=operator, accept=True)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)

    assert_approved(ticket, outcome=Outcome.FULFILLED, preparer=operator, approver=supervisor)
    member.refresh_from_db()
    assert member.city == "中野区江古田"
    assert member.history.latest().history_change_reason.startswith(ticket.number)
    assert member.history.latest().history_user == supervisor
    assert CorrectionItem.objects.get(pk=item.pk).decision == CorrectionItem.Decision.ACCEPTED


def test_deletion_erases_the_accepted_records_on_approval(operator, supervisor):
    member = MemberFactory()
    record = ContactRecordFactory(member=member, summary="転居の相談")
    ticket = verified_request(Kind.DELETION, member=member, actor=operator)
    item = services.add_deletion_item(ticket, target="contact_records", actor=operator)
    services.decide_deletion_item(item, actor=operator, accept=True)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)

    assert_approved(ticket, outcome=Outcome.FULFILLED, preparer=operator, approver=supervisor)
    assert ContactRecord.objects.get(pk=record.pk).summary == ERASED_TEXT
    assert DeletionItem.objects.get(pk=item.pk).erased_count == 1


@pytest.mark.parametrize("kind", STOP_KINDS)
def test_stop_requests_close_only_through_four_eyes_approval(kind, operator, supervisor):
    member = MemberFactory()
    grant_all_consents(member)
    ticket = verified_request(kind, member=member, actor=operator)
    with pytest.raises(ValidationError):
        services.close_ticket(ticket, actor=operator)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)

    assert_approved(ticket, outcome=Outcome.FULFILLED, preparer=operator, approver=supervisor)
    if kind == Kind.PROVISION_STOP:
        member.refresh_from_db()
        assert member.provision_stopped
        assert member.history.latest().history_change_reason.startswith(ticket.number)
    else:
        withdrawn = Consent.objects.get(member=member, purpose=Purpose.objects.get(code="marketing_own"))
        assert not withdrawn.granted
        assert withdrawn.history.latest().history_change_reason.startswith(ticket.number)


@pytest.mark.parametrize("kind", [Kind.INQUIRY, Kind.OPINION])
def test_inquiries_and_opinions_close_without_approval(kind, operator):
    ticket = open_request(kind, member=None, actor=operator, summary="年会費について")
    services.close_ticket(ticket, actor=operator, note="電話で回答")

    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.outcome == ""
    assert ticket.prepared_by is None and ticket.approver is None
    assert ticket.closed_at is not None
    assert ticket.due_state() == "ok"
    assert reasons(ticket)[-1] == f"{ticket.number} 電話で回答"
    assert_every_history_row_names_the_ticket(ticket)


@pytest.mark.parametrize("kind", [Kind.INQUIRY, Kind.OPINION])
def test_inquiries_and_opinions_cannot_be_submitted_for_approval(kind, operator):
    ticket = open_request(kind, member=MemberFactory(), actor=operator)
    services.verify_identity(ticket, actor=operator, method="driver_license")
    with pytest.raises(ValidationError, match="承認なしで完了"):
        services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.prepared_by is None


@pytest.mark.parametrize("kind", sorted(rules.REQUEST_KINDS))
def test_requests_cannot_be_closed_without_approval(kind, operator):
    ticket = verified_request(kind, member=MemberFactory(), actor=operator)
    with pytest.raises(ValidationError, match="承認を経て完了"):
        services.close_ticket(ticket, actor=operator)
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_a_request_can_be_withdrawn_before_identity_is_verified(operator, supervisor):
    member = MemberFactory()
    grant_all_consents(member)
    ticket = open_request(Kind.MARKETING_STOP, member=member, actor=operator)
    services.start_verification(ticket, actor=operator)
    services.submit_for_approval(
        ticket, outcome=Outcome.WITHDRAWN, actor=operator, reason="本人から取下げの連絡"
    )
    assert ticket.status == Status.PENDING_APPROVAL
    services.approve(ticket, actor=supervisor)

    assert_approved(ticket, outcome=Outcome.WITHDRAWN, preparer=operator, approver=supervisor)
    assert ticket.identity_verified_at is None
    assert Consent.objects.filter(member=member, granted=False).count() == 0


def test_only_a_withdrawal_skips_identity_verification(operator):
    ticket = open_request(Kind.MARKETING_STOP, member=MemberFactory(), actor=operator)
    with pytest.raises(ValidationError) as exc:
        services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    assert exc.value.code == "invalid_state"


def test_a_refused_request_keeps_its_ground_and_reason_and_changes_nothing(operator, supervisor):
    member = MemberFactory()
    before = Member.objects.get(pk=member.pk).history.count()
    ticket = verified_request(Kind.DISCLOSURE, member=member, actor=operator)
    services.submit_for_approval(
        ticket,
        outcome=Outcome.REFUSED,
        ground="business",
        reason="同一内容の請求が短期間に繰り返されているため",
        actor=operator,
    )
    services.approve(ticket, actor=supervisor)

    assert_approved(ticket, outcome=Outcome.REFUSED, preparer=operator, approver=supervisor)
    assert ticket.refusal_ground == "business"
    assert ticket.outcome_reason == "同一内容の請求が短期間に繰り返されているため"
    assert not ticket.packages.exists()
    assert Member.objects.get(pk=member.pk).history.count() == before
