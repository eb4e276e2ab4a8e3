"""Use of data (clause Art. 2, 5, 7; DESIGN "Use of data"): one answer, ``members.selectors.may_use``.

The table below is the rule written out by hand, apart from the code: for each state of the
member's transactions and consents, which uses are allowed. Every path that uses data asks
``may_use`` (the list at the end), so breaking a row of the table fails here and there.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from members import selectors, services
from members.models import Consent, ContractStatus, MemberStatus
from tests.factories import ContractFactory, MemberFactory, current_version
from tests.one_home import asks

ALL = selectors.USE_CODES
CONSENTED = ("credit", "bureau", "marketing_own", "marketing_partner", "research")
TODAY = date(2026, 6, 15)


def _consent(member, granted=CONSENTED, refused=()):
    version = current_version()
    for code, value in [(c, True) for c in granted] + [(c, False) for c in refused]:
        from members.models import Purpose

        Consent.objects.update_or_create(
            member=member,
            purpose=Purpose.objects.get(code=code),
            defaults={"granted": value, "version": version, "source": "application"},
        )


def _contract(member, status, *, applied_on=date(2025, 1, 10), ended_on=None):
    return ContractFactory(
        member=member,
        status=status,
        applied_on=applied_on,
        contracted_on=applied_on if status in (ContractStatus.FORMED, ContractStatus.ENDED) else None,
        ended_on=ended_on,
        decline_reason="credit_judgement" if status == ContractStatus.DECLINED else "",
    )


# state -> the contracts of the member; each as (status, ended_on)
STATES = {
    "no_contract": [],
    "applied": [("applied", None)],
    "formed": [("formed", None)],
    "declined": [("declined", None)],
    "ended": [("ended", date(2026, 3, 31))],
    "ends_after_today": [("ended", date(2026, 12, 31))],
    "declined_and_ended": [("declined", None), ("ended", date(2026, 3, 31))],
    "declined_but_another_runs": [("declined", None), ("formed", None)],
    "ended_but_another_runs": [("ended", date(2026, 3, 31)), ("formed", None)],
}
# state, consents granted -> allowed uses
EXPECTED = [
    ("no_contract", CONSENTED, {"credit", "bureau", "marketing_own", "marketing_partner", "research"}),
    ("applied", CONSENTED, set(ALL)),
    ("formed", CONSENTED, set(ALL)),
    ("formed", ("credit", "bureau"), {"credit", "bureau", "partner_provision"}),
    ("formed", ("credit", "bureau", "research"), {"credit", "bureau", "research", "partner_provision"}),
    ("formed", (), {"partner_provision"}),
    # Art. 7(1): declined, whatever the reason → credit decisions and bureau registration only.
    ("declined", CONSENTED, {"credit", "bureau"}),
    ("declined", (), {"credit", "bureau"}),
    # Art. 7(2): every contract ended → credit decisions (and requests) only.
    ("ended", CONSENTED, {"credit"}),
    ("ended", (), {"credit"}),
    ("ends_after_today", CONSENTED, set(ALL)),
    ("declined_and_ended", CONSENTED, {"credit", "bureau"}),
    # A running contract of another transaction keeps the uses consented to.
    ("declined_but_another_runs", CONSENTED, set(ALL)),
    ("ended_but_another_runs", CONSENTED, set(ALL)),
    ("ended_but_another_runs", ("credit", "bureau"), {"credit", "bureau", "partner_provision"}),
]


@pytest.mark.parametrize(("state", "granted", "allowed"), EXPECTED)
def test_may_use_by_contract_state_and_consent(db, state, granted, allowed):
    member = MemberFactory()
    for status, ended_on in STATES[state]:
        _contract(member, status, ended_on=ended_on)
    _consent(member, granted=granted, refused=[c for c in CONSENTED if c not in granted])

    answers = {code: selectors.may_use(member, code, on=TODAY) for code in ALL}

    assert {code for code, ok in answers.items() if ok} == allowed
    # The set the extracts read agrees with the single answer.
    for code in ALL:
        in_set = selectors.usable_members(code, on=TODAY).filter(pk=member.pk).exists()
        assert in_set == answers[code], code
    # The overview the member pages show (answer with its reason) agrees with may_use too.
    overview = selectors.use_overview(member, on=TODAY)
    assert [answer.code for answer in overview] == list(ALL)
    assert {answer.code: answer.allowed for answer in overview} == answers
    assert all(answer.reason in selectors.USE_REASON_LABELS for answer in overview)


@pytest.mark.parametrize("stopped", [False, True])
@pytest.mark.parametrize("anonymized", [False, True])
def test_the_overview_agrees_with_may_use_for_stops_and_anonymized_members(db, stopped, anonymized):
    member = MemberFactory(
        provision_stopped=stopped, status=MemberStatus.ANONYMIZED if anonymized else MemberStatus.ACTIVE
    )
    _contract(member, "formed")
    _consent(member)
    overview = {answer.code: answer for answer in selectors.use_overview(member, on=TODAY)}
    assert {code: a.allowed for code, a in overview.items()} == {
        code: selectors.may_use(member, code, on=TODAY) for code in ALL
    }
    if anonymized:
        assert {a.reason for a in overview.values()} == {selectors.UseReason.ANONYMIZED}
    elif stopped:
        assert overview["partner_provision"].reason == selectors.UseReason.PROVISION_STOPPED


def test_an_anonymized_member_is_used_for_nothing(db):
    member = MemberFactory(status=MemberStatus.ANONYMIZED)
    _contract(member, "formed")
    _consent(member)
    assert not any(selectors.may_use(member, code, on=TODAY) for code in ALL)


def test_a_stop_of_provision_ends_partner_provision_only(db):
    member = MemberFactory(provision_stopped=True)
    _contract(member, "formed")
    _consent(member)
    assert not selectors.may_use(member, "partner_provision", on=TODAY)
    assert all(selectors.may_use(member, code, on=TODAY) for code in CONSENTED)


def test_the_answer_is_judged_on_the_day_asked(db):
    member = MemberFactory()
    _contract(member, "ended", ended_on=date(2026, 3, 31))
    _consent(member)
    assert selectors.may_use(member, "marketing_own", on=date(2026, 3, 30))
    assert not selectors.may_use(member, "marketing_own", on=date(2026, 3, 31))


def test_an_unknown_purpose_is_a_programming_error(db):
    with pytest.raises(ValueError):
        selectors.may_use(MemberFactory(), "lottery")


# --- the uses end at once, on record ---------------------------------------------------------


def _withdrawal_reasons(member):
    return {
        row.purpose.code: row.history.first().history_change_reason
        for row in Consent.objects.filter(member=member, granted=False).select_related("purpose")
    }


def test_declining_the_only_application_ends_marketing_and_research_at_once(db, supervisor):
    member = MemberFactory(status=MemberStatus.APPLICANT)
    application = _contract(member, "applied", applied_on=timezone.localdate())
    _consent(member)
    assert selectors.may_use(member, "marketing_own")

    services.decide_application(application, approve=False, actor=supervisor, reason="credit_judgement")

    assert not selectors.may_use(member, "marketing_own")
    reasons = _withdrawal_reasons(member)
    assert set(reasons) == {"marketing_own", "marketing_partner", "research"}
    assert all("第7条第1項" in reason for reason in reasons.values())
    assert Consent.objects.get(member=member, purpose__code="credit").granted is True


def test_ending_the_last_contract_ends_marketing_and_research_at_once(db, supervisor):
    member = MemberFactory()
    first = _contract(member, "formed")
    second = _contract(member, "formed")
    _consent(member)

    services.end_contract(first, actor=supervisor, ended_on=timezone.localdate() - timedelta(days=1))
    assert Consent.objects.filter(member=member, granted=False).count() == 0  # another still runs

    services.end_contract(second, actor=supervisor, ended_on=timezone.localdate() - timedelta(days=1))
    reasons = _withdrawal_reasons(member)
    assert set(reasons) == {"marketing_own", "marketing_partner", "research"}
    assert all("第7条第2項" in reason for reason in reasons.values())
    assert not selectors.may_use(member, "research")


def test_declining_while_another_contract_runs_keeps_the_consents(db, supervisor):
    member = MemberFactory()
    _contract(member, "formed")
    application = _contract(member, "applied", applied_on=timezone.localdate())
    _consent(member)

    services.decide_application(application, approve=False, actor=supervisor, reason="credit_judgement")

    assert Consent.objects.filter(member=member, granted=False).count() == 0
    assert selectors.may_use(member, "marketing_own")


def test_an_application_is_approved_only_when_credit_use_is_allowed(db, supervisor):
    from django.core.exceptions import ValidationError

    member = MemberFactory(status=MemberStatus.APPLICANT)
    application = _contract(member, "applied", applied_on=timezone.localdate())
    _consent(member, granted=("bureau",), refused=("credit",))

    with pytest.raises(ValidationError):
        services.decide_application(application, approve=True, actor=supervisor)
    application.refresh_from_db()
    assert application.status == ContractStatus.APPLIED


def test_a_contract_ended_on_a_day_set_in_advance_ends_the_uses_that_night(db, supervisor):
    from consentoffice.core.history import system_user
    from members.tasks import apply_retention

    member = MemberFactory()
    contract = _contract(member, "formed")
    _consent(member)
    services.end_contract(contract, actor=supervisor, ended_on=timezone.localdate() + timedelta(days=30))
    assert Consent.objects.filter(member=member, granted=False).count() == 0  # still running

    assert services.end_consented_uses_due(actor=system_user(), on=timezone.localdate()) == 0
    withdrawn = services.end_consented_uses_due(
        actor=system_user(), on=timezone.localdate() + timedelta(days=30)
    )
    assert withdrawn == 3
    reasons = _withdrawal_reasons(member)
    assert set(reasons) == {"marketing_own", "marketing_partner", "research"}
    assert all("同意条項第7条" in reason for reason in reasons.values())
    assert (
        services.end_consented_uses_due(actor=system_user(), on=timezone.localdate() + timedelta(days=30))
        == 0
    )
    assert apply_retention()["consents_withdrawn"] == 0  # the nightly task runs it too (nothing left)


# --- the member page shows each use and why ----------------------------------------------------


def test_the_member_page_shows_per_purpose_whether_the_data_may_be_used(client, operator):
    operator.is_staff = True
    operator.save(update_fields=["is_staff"])
    client.force_login(operator)
    member = MemberFactory()
    _contract(member, "ended", ended_on=timezone.localdate() - timedelta(days=1))
    _consent(member)

    page = client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()

    assert 'id="member-uses"' in page
    assert page.count('class="use-allowed"') == 1  # credit only
    assert page.count('class="use-denied"') == len(ALL) - 1
    assert "同意条項第7条第2項" in page


# --- every path that uses data asks the rule ----------------------------------------------------

# (module, function): each uses members' data for a purpose and must ask may_use / usable_members.
PATHS_THAT_ASK = [
    ("members.partner_sync", "replay"),
    ("members.services", "end_consented_uses_due"),
    ("members.services", "queue_partner_sync"),
    ("members.services", "decide_application"),
    ("members.services", "end_consented_uses"),
    ("members.extracts", "extract_members"),
]


@pytest.mark.parametrize(("module", "function"), PATHS_THAT_ASK)
def test_every_use_of_data_asks_the_one_rule(module, function):
    assert asks(
        module, function, "selectors.may_use", "selectors.usable_members", "selectors.has_running_transaction"
    )
