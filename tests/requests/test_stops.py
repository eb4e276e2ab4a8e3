"""Stops (clause Art. 2(2); APPI Art. 35): marketing, every use beyond credit, provision to third parties."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from members import services as member_services
from members.models import Consent, ConsentSource, Member, PartnerSyncEvent, SyncStatus
from requests import rules, services
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory, grant_all_consents
from tests.requests import verified_request

Kind, Outcome = rules.Kind, rules.Outcome


def approved(kind: str, *, member, operator, supervisor):
    ticket = verified_request(kind, member=member, actor=operator)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)
    return ticket


def consents(member) -> dict[str, Consent]:
    return {c.purpose.code: c for c in Consent.objects.filter(member=member).select_related("purpose")}


@pytest.mark.parametrize(
    ("kind", "withdrawn"),
    [
        (Kind.MARKETING_STOP, {"marketing_own", "marketing_partner"}),
        (Kind.USAGE_STOP, {"marketing_own", "marketing_partner", "research"}),
    ],
)
def test_a_stop_withdraws_its_purposes_from_the_ticket_and_leaves_credit_and_bureau(
    kind, withdrawn, operator, supervisor
):
    member = MemberFactory()
    grant_all_consents(member)
    ticket = approved(kind, member=member, operator=operator, supervisor=supervisor)

    state = consents(member)
    assert {code for code, c in state.items() if not c.granted} == withdrawn
    assert state["credit"].granted and state["bureau"].granted
    for code in withdrawn:
        consent = state[code]
        assert consent.source == ConsentSource.TICKET
        latest = consent.history.latest()
        assert latest.history_change_reason.startswith(f"{ticket.number} ")
        assert latest.history_user == supervisor
        assert latest.granted is False


def test_marketing_stop_keeps_research(operator, supervisor):
    member = MemberFactory()
    grant_all_consents(member)
    approved(Kind.MARKETING_STOP, member=member, operator=operator, supervisor=supervisor)
    assert consents(member)["research"].granted


def test_a_stop_takes_effect_only_on_approval(operator):
    member = MemberFactory()
    grant_all_consents(member)
    ticket = verified_request(Kind.MARKETING_STOP, member=member, actor=operator)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    assert all(c.granted for c in consents(member).values())


def test_a_stop_has_no_partial_outcome(operator):
    ticket = verified_request(Kind.USAGE_STOP, member=MemberFactory(), actor=operator)
    with pytest.raises(ValidationError, match="一部対応はありません"):
        services.submit_for_approval(ticket, outcome=Outcome.PARTLY, reason="一部のみ", actor=operator)


def test_provision_stop_stops_partner_sync_now_and_later(operator, supervisor):
    member = MemberFactory()
    ContractFactory(member=member, affiliate=AffiliateFactory())
    member_services.update_member(member, actor=operator, reason="転居の届出", city="中野区江古田")
    pending = PartnerSyncEvent.objects.get(member=member)
    assert pending.status == SyncStatus.PENDING
    sent = PartnerSyncEvent.objects.create(
        member=member, affiliate=pending.affiliate, payload={"changes": {}}, status=SyncStatus.SENT
    )

    ticket = approved(Kind.PROVISION_STOP, member=member, operator=operator, supervisor=supervisor)

    member = Member.objects.get(pk=member.pk)
    assert member.provision_stopped
    assert member.history.latest().history_change_reason.startswith(f"{ticket.number} ")
    pending.refresh_from_db()
    assert pending.status == SyncStatus.DEAD
    assert pending.history.latest().history_change_reason.startswith(f"{ticket.number} ")
    sent.refresh_from_db()
    assert sent.status == SyncStatus.SENT

    # The stop itself is passed on (tests/members/test_partner_outbound.py); changes are not.
    changes = PartnerSyncEvent.objects.filter(member=member).exclude(payload__has_key="stops")
    member_services.update_member(member, actor=operator, reason="電話番号の届出", phone="09012349876")
    assert Member.objects.get(pk=member.pk).phone == "09012349876"
    assert changes.count() == 2
    assert not changes.filter(status=SyncStatus.PENDING).exists()


def test_provision_stop_leaves_consents_alone(operator, supervisor):
    member = MemberFactory()
    grant_all_consents(member)
    approved(Kind.PROVISION_STOP, member=member, operator=operator, supervisor=supervisor)
    assert all(c.granted for c in consents(member).values())


@pytest.mark.parametrize("kind", [Kind.MARKETING_STOP, Kind.USAGE_STOP, Kind.PROVISION_STOP])
def test_a_withdrawn_stop_changes_nothing(kind, operator, supervisor):
    member = MemberFactory()
    grant_all_consents(member)
    ticket = verified_request(kind, member=member, actor=operator)
    services.submit_for_approval(ticket, outcome=Outcome.WITHDRAWN, actor=operator)
    services.approve(ticket, actor=supervisor)
    assert all(c.granted for c in consents(member).values())
    assert not Member.objects.get(pk=member.pk).provision_stopped


# --- which outcomes a stop may end with (rules.OUTCOMES_NOT_FOR_KIND) ---------------------------

MARKETING_STOP_IS_NOT_REFUSED = "営業目的利用の中止は断ることができません（同意条項第2条第2項）"

STOPS = (Kind.MARKETING_STOP, Kind.USAGE_STOP, Kind.PROVISION_STOP)
# (kind, outcome, offered): every request kind against every outcome, written apart from the table.
OUTCOMES_BY_KIND = [
    (
        kind,
        outcome,
        not (kind in STOPS and outcome == Outcome.PARTLY)
        and not (kind == Kind.MARKETING_STOP and outcome == Outcome.REFUSED),
    )
    for kind in sorted(rules.REQUEST_KINDS)
    for outcome, _label in rules.OUTCOME_CHOICES
]


@pytest.mark.parametrize(("kind", "outcome", "offered"), OUTCOMES_BY_KIND)
def test_each_kind_is_offered_exactly_the_outcomes_it_may_end_with(kind, outcome, offered):
    assert (outcome in dict(rules.outcome_choices(kind))) is offered
    assert (rules.outcome_not_for_kind(kind, outcome) is None) is offered


@pytest.mark.parametrize(
    ("kind", "outcome", "message"),
    [
        (Kind.MARKETING_STOP, Outcome.REFUSED, MARKETING_STOP_IS_NOT_REFUSED),
        (Kind.MARKETING_STOP, Outcome.PARTLY, MARKETING_STOP_IS_NOT_REFUSED),
        (Kind.USAGE_STOP, Outcome.PARTLY, "一部対応はありません"),
        (Kind.PROVISION_STOP, Outcome.PARTLY, "一部対応はありません"),
    ],
)
def test_an_outcome_a_stop_cannot_end_with_is_refused_in_japanese_and_nothing_saved(
    operator, kind, outcome, message
):
    ticket = verified_request(kind, member=MemberFactory(), actor=operator)
    version, history = ticket.version, ticket.history.count()
    with pytest.raises(ValidationError) as exc:
        services.submit_for_approval(
            ticket, outcome=outcome, ground="business", reason="理由", actor=operator
        )
    assert message in exc.value.message_dict["outcome"][0]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome, ticket.version) == (rules.Status.IN_PROGRESS, "", version)
    assert ticket.history.count() == history


def test_a_marketing_stop_is_withdrawn_or_fulfilled(operator, supervisor):
    member = MemberFactory()
    grant_all_consents(member)
    ticket = verified_request(Kind.MARKETING_STOP, member=member, actor=operator)
    services.submit_for_approval(ticket, outcome=Outcome.WITHDRAWN, actor=operator)
    services.approve(ticket, actor=supervisor)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome) == (rules.Status.CLOSED, Outcome.WITHDRAWN)
    assert all(c.granted for c in consents(member).values())


def test_a_refused_marketing_stop_prepared_before_the_rule_is_not_approved(operator, supervisor):
    from requests.models import Ticket

    ticket = verified_request(Kind.MARKETING_STOP, member=MemberFactory(), actor=operator)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    Ticket.objects.filter(pk=ticket.pk).update(outcome=Outcome.REFUSED, refusal_ground="business")
    with pytest.raises(ValidationError, match=MARKETING_STOP_IS_NOT_REFUSED):
        services.approve(ticket, actor=supervisor)
    ticket.refresh_from_db()
    assert ticket.status == rules.Status.PENDING_APPROVAL and ticket.approver is None
