"""Four eyes: one person prepares the outcome of a request, a supervisor who did not prepare it approves."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from members.models import Consent
from requests import rules, selectors, services
from requests.models import Ticket
from tests.factories import MemberFactory, grant_all_consents
from tests.one_home import asks, source_of
from tests.requests import verified_request

Kind, Status, Outcome = rules.Kind, rules.Status, rules.Outcome


def prepared_marketing_stop(preparer) -> Ticket:
    member = MemberFactory()
    grant_all_consents(member)
    ticket = verified_request(Kind.MARKETING_STOP, member=member, actor=preparer)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=preparer)
    return ticket


def assert_still_pending(ticket: Ticket) -> None:
    version = ticket.version
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_APPROVAL
    assert ticket.approver is None and ticket.approved_at is None
    assert ticket.version == version
    assert Consent.objects.filter(member=ticket.member, granted=False).count() == 0


def test_the_preparer_cannot_approve_their_own_outcome(operator):
    ticket = prepared_marketing_stop(operator)
    with pytest.raises(PermissionDenied):
        services.approve(ticket, actor=operator)
    assert_still_pending(ticket)


def test_another_operator_cannot_approve_without_the_approve_permission(operator, operator2):
    ticket = prepared_marketing_stop(operator)
    assert not operator2.has_perm("requests.approve_ticket")
    with pytest.raises(PermissionDenied):
        services.approve(ticket, actor=operator2)
    assert_still_pending(ticket)


def test_a_supervisor_who_did_not_prepare_approves_and_the_outcome_takes_effect(operator, supervisor):
    ticket = prepared_marketing_stop(operator)
    services.approve(ticket, actor=supervisor)
    assert ticket.status == Status.CLOSED
    assert ticket.prepared_by == operator and ticket.approver == supervisor
    assert Consent.objects.filter(member=ticket.member, granted=False).count() == 2


def test_a_supervisor_may_prepare_but_not_approve_their_own_outcome(supervisor, supervisor2):
    ticket = prepared_marketing_stop(supervisor)
    assert ticket.prepared_by == supervisor
    with pytest.raises(PermissionDenied):
        services.approve(ticket, actor=supervisor)
    assert_still_pending(ticket)
    services.approve(ticket, actor=supervisor2)
    assert ticket.approver == supervisor2


def test_the_approval_queue_hides_what_the_supervisor_prepared(supervisor, supervisor2, operator):
    own = prepared_marketing_stop(supervisor)
    other = prepared_marketing_stop(operator)
    assert set(selectors.approval_queue(supervisor).values_list("pk", flat=True)) == {other.pk}
    assert set(selectors.approval_queue(supervisor2).values_list("pk", flat=True)) == {own.pk, other.pk}


def test_the_database_refuses_an_approver_who_prepared_the_outcome(operator, supervisor):
    ticket = prepared_marketing_stop(operator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(approver=F("prepared_by"))
    constraint_names = {c.name for c in Ticket._meta.constraints}
    assert "ticket_four_eyes" in constraint_names


@pytest.mark.parametrize("ground", sorted(rules.REFUSAL_GROUNDS))
def test_a_refusal_with_a_listed_ground_and_a_reason_goes_to_approval(ground, operator):
    ticket = verified_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    services.submit_for_approval(
        ticket, outcome=Outcome.REFUSED, ground=ground, reason="理由を説明します", actor=operator
    )
    assert ticket.status == Status.PENDING_APPROVAL
    assert ticket.refusal_ground == ground


@pytest.mark.parametrize(
    ("ground", "reason", "field"),
    [
        ("", "理由を説明します", "ground"),
        ("busy", "理由を説明します", "ground"),  # not one of APPI Art. 33(2) i–iii
        ("harm", "", "reason"),  # Art. 36: the reasons are explained to the person
        ("harm", "   ", "reason"),
    ],
)
def test_a_refusal_needs_a_listed_ground_and_a_reason(ground, reason, field, operator):
    ticket = verified_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    with pytest.raises(ValidationError) as exc:
        services.submit_for_approval(
            ticket, outcome=Outcome.REFUSED, ground=ground, reason=reason, actor=operator
        )
    assert field in exc.value.message_dict
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS and ticket.outcome == ""


def test_a_partial_answer_needs_a_reason(operator):
    ticket = verified_request(Kind.DELETION, member=MemberFactory(), actor=operator)
    with pytest.raises(ValidationError) as exc:
        services.submit_for_approval(ticket, outcome=Outcome.PARTLY, actor=operator)
    assert "reason" in exc.value.message_dict


def test_send_back_returns_the_ticket_to_the_operator_without_an_outcome(operator, supervisor):
    ticket = verified_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    services.submit_for_approval(
        ticket, outcome=Outcome.REFUSED, ground="law", reason="他の法令に違反するため", actor=operator
    )
    with pytest.raises(ValidationError):
        services.send_back(ticket, actor=supervisor, reason=" ")
    with pytest.raises(PermissionDenied):
        services.send_back(ticket, actor=operator, reason="根拠の再確認を")

    services.send_back(ticket, actor=supervisor, reason="根拠の再確認を")
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.outcome == "" and ticket.refusal_ground == "" and ticket.outcome_reason == ""
    assert ticket.history.latest().history_change_reason == f"{ticket.number} 差し戻し: 根拠の再確認を"
    with pytest.raises(ValidationError) as exc:
        services.approve(ticket, actor=supervisor)
    assert exc.value.code == "invalid_state"


# --- "did not prepare" across send-backs and resubmissions (issue 14) --------------------------


def correction_with_decided_item(decider, submitter):
    from tests.factories import MemberFactory as Members

    ticket = verified_request(Kind.CORRECTION, member=Members(), actor=submitter)
    item = services.add_correction_item(ticket, field="city", requested_value="中野区", actor=submitter)
    services.decide_correction_item(item, actor=decider, accept=True)
    return ticket


def test_a_supervisor_who_decided_and_submitted_cannot_approve_after_a_resubmission(
    operator, supervisor, supervisor2
):
    ticket = correction_with_decided_item(supervisor, supervisor)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=supervisor)
    services.send_back(ticket, actor=supervisor, reason="見直し")
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    assert ticket.prepared_by == operator

    with pytest.raises(PermissionDenied):
        services.approve(ticket, actor=supervisor)
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_APPROVAL and ticket.member.city != "中野区"
    assert ticket not in selectors.approval_queue(supervisor)
    assert ticket in selectors.approval_queue(supervisor2)

    services.approve(ticket, actor=supervisor2)
    ticket.member.refresh_from_db()
    assert ticket.member.city == "中野区"


def test_deciding_one_item_is_enough_to_be_kept_from_approving(operator, supervisor):
    ticket = correction_with_decided_item(supervisor, operator)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    with pytest.raises(PermissionDenied):
        services.approve(ticket, actor=supervisor)
    assert selectors.took_part_in(ticket, supervisor)


def test_the_database_refuses_an_approver_who_prepared(operator, supervisor):
    from requests.models import TicketParticipant

    ticket = correction_with_decided_item(supervisor, operator)
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketParticipant.objects.create(ticket=ticket, user=supervisor, role=TicketParticipant.Role.APPROVED)


def test_the_ticket_page_does_not_offer_approve_to_a_decider(client, operator, supervisor):
    from django.urls import reverse

    ticket = correction_with_decided_item(supervisor, operator)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    supervisor.is_staff = True
    supervisor.save(update_fields=["is_staff"])
    client.force_login(supervisor)
    page = client.get(reverse("admin:requests_ticket_change", args=[ticket.pk])).content.decode()
    assert "起案・判断に関わった人は承認できません" in page


# The paths that decide who may approve; each asks requests.selectors (prepared_by_user / took_part_in).
PATHS_THAT_ASK = [
    ("requests.services", "approve"),
    ("requests.selectors", "approval_queue"),
    ("requests.selectors", "took_part_in"),
    ("requests.admin", "TicketAdmin"),
]


@pytest.mark.parametrize(("module", "name"), PATHS_THAT_ASK)
def test_every_approval_path_asks_the_one_rule(module, name):
    assert asks(module, name, "took_part_in", "prepared_by_user")
    assert "prepared_by_id" not in source_of(module, name)
