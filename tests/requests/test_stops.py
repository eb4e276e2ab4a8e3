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
