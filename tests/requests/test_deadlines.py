"""APPI Art. 39: a request is due at the end of the 14th calendar day after it arrived (Tokyo time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from requests import rules, selectors, services
from requests.models import Ticket
from tests.factories import MemberFactory
from tests.requests import open_request, verified_request

Kind, Outcome = rules.Kind, rules.Outcome
TOKYO = ZoneInfo("Asia/Tokyo")


def jst(*args) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (jst(2026, 12, 20, 10, 0), jst(2027, 1, 3, 23, 59, 59)),  # across the year end
        (jst(2028, 2, 20, 10, 0), jst(2028, 3, 5, 23, 59, 59)),  # 2028 is a leap year: 29 Feb inside
        (jst(2027, 2, 20, 10, 0), jst(2027, 3, 6, 23, 59, 59)),  # common year
        (jst(2027, 2, 20, 0, 0), jst(2027, 3, 6, 23, 59, 59)),  # the first second of the day counts
        (jst(2027, 2, 20, 23, 59, 59), jst(2027, 3, 6, 23, 59, 59)),
    ],
)
def test_due_at_is_the_end_of_the_fourteenth_calendar_day_in_tokyo(received, due):
    assert rules.due_at(received) == due


def test_due_at_uses_the_tokyo_date_of_an_arrival_late_in_the_utc_evening():
    received = datetime(2027, 2, 19, 23, 30, tzinfo=UTC)  # 2027-02-20 08:30 in Tokyo
    assert rules.due_at(received) == jst(2027, 3, 6, 23, 59, 59)


def test_open_ticket_fixes_the_legal_due_date_from_the_arrival(operator):
    ticket = open_request(
        Kind.DISCLOSURE, member=MemberFactory(), actor=operator, received_at=jst(2025, 12, 20, 10)
    )
    ticket.refresh_from_db()
    assert ticket.due_at == jst(2026, 1, 3, 23, 59, 59)
    assert ticket.number.startswith("T20251220-")


def test_the_due_date_never_moves_on_hold_and_resume(operator):
    ticket = verified_request(Kind.CORRECTION, member=MemberFactory(), actor=operator)
    due = ticket.due_at
    services.hold(ticket, actor=operator, reason="本人確認書類の再送待ち")
    assert ticket.on_hold and ticket.due_at == due
    services.resume(ticket, actor=operator)
    assert not ticket.on_hold and ticket.due_at == due
    assert ticket.hold_reason == "" and ticket.hold_started_at is None


def test_hold_time_accumulates_over_several_holds(operator, monkeypatch):
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    ticket = verified_request(Kind.CORRECTION, member=MemberFactory(), actor=operator)
    due = ticket.due_at

    services.hold(ticket, actor=operator, reason="委任状の到着待ち")
    clock["now"] = start + timedelta(hours=2)
    assert ticket.held_total_seconds() == 2 * 3600  # a running hold counts too
    services.resume(ticket, actor=operator)
    assert ticket.held_seconds == 2 * 3600

    clock["now"] = start + timedelta(hours=5)
    services.hold(ticket, actor=operator, reason="手数料の入金待ち")
    clock["now"] = start + timedelta(hours=5, minutes=30)
    services.resume(ticket, actor=operator)

    ticket.refresh_from_db()
    assert ticket.held_seconds == 2 * 3600 + 30 * 60
    assert ticket.held_total_seconds(now=start + timedelta(days=3)) == 2 * 3600 + 30 * 60
    assert ticket.due_at == due


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (jst(2027, 2, 20, 12), "ok"),
        (jst(2027, 3, 3, 23, 59, 58), "ok"),  # three days and a second before the deadline
        (jst(2027, 3, 3, 23, 59, 59), "due_soon"),  # exactly three days left
        (jst(2027, 3, 6, 23, 59, 59), "due_soon"),
        (jst(2027, 3, 7, 0, 0), "overdue"),
    ],
)
def test_due_state_is_ok_due_soon_within_three_days_then_overdue(now, state):
    assert rules.due_state(rules.due_at(jst(2027, 2, 20, 10)), now) == state


def test_an_open_request_shows_its_due_state_and_a_closed_one_is_never_late(operator, supervisor):
    received = timezone.now() - timedelta(days=20)
    ticket = open_request(Kind.MARKETING_STOP, member=MemberFactory(), actor=operator, received_at=received)
    assert ticket.due_state() == "overdue"
    assert ticket.due_state(now=received) == "ok"
    services.submit_for_approval(ticket, outcome=Outcome.WITHDRAWN, actor=operator)
    services.approve(ticket, actor=supervisor)
    assert ticket.due_state() == "ok"


@pytest.mark.parametrize(
    "before_deadline",
    [
        timedelta(days=3, seconds=1),  # ok
        timedelta(days=3),  # exactly three days left: due soon
        timedelta(seconds=0),  # the deadline itself: still due soon
        -timedelta(seconds=1),  # overdue
    ],
)
def test_the_queues_judge_the_deadline_as_the_rule_does(operator, before_deadline):
    """The overdue and due-soon queues and the home's counts ask the database (``due_filter``);
    the rows and the ticket page ask ``rules.due_state``. At each boundary both say the same."""
    ticket = open_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    now = ticket.due_at - before_deadline
    expected = rules.due_state(ticket.due_at, now)
    judged = {
        state
        for state in ("overdue", "due_soon", "ok")
        if Ticket.objects.filter(selectors.due_filter(state, now), pk=ticket.pk).exists()
    }
    assert judged == {expected}


def _queue(user, scope: str) -> set[int]:
    return set(selectors.operator_queue(user, scope=scope).values_list("pk", flat=True))


def test_operator_queue_scopes_pick_the_right_tickets(operator, operator2, supervisor):
    now = timezone.now()
    member = MemberFactory()
    mine = open_request(Kind.DISCLOSURE, member=member, actor=operator)
    theirs = open_request(Kind.CORRECTION, member=member, actor=operator2)
    unassigned = open_request(Kind.DELETION, member=member, actor=operator)
    services.assign(unassigned, actor=operator, assignee=None)
    due_soon = open_request(
        Kind.USAGE_STOP, member=member, actor=operator2, received_at=now - timedelta(days=12)
    )
    overdue = open_request(
        Kind.PROVISION_STOP, member=member, actor=operator2, received_at=now - timedelta(days=20)
    )
    old_inquiry = open_request(
        Kind.INQUIRY, member=member, actor=operator, received_at=now - timedelta(days=20)
    )
    closed = open_request(
        Kind.MARKETING_STOP, member=member, actor=operator, received_at=now - timedelta(days=20)
    )
    services.submit_for_approval(closed, outcome=Outcome.WITHDRAWN, actor=operator)
    services.approve(closed, actor=supervisor)

    assert _queue(operator, "mine") == {mine.pk, old_inquiry.pk}
    assert _queue(operator2, "mine") == {theirs.pk, due_soon.pk, overdue.pk}
    assert _queue(operator, "unassigned") == {unassigned.pk}
    assert _queue(operator, "due_soon") == {due_soon.pk}
    assert _queue(operator, "overdue") == {overdue.pk}  # inquiries have no legal deadline


def test_duplicate_flag_marks_a_second_open_ticket_of_the_same_kind_and_member(operator, supervisor):
    member = MemberFactory()
    first = open_request(Kind.MARKETING_STOP, member=member, actor=operator)
    second = open_request(Kind.MARKETING_STOP, member=member, actor=operator)
    other_kind = open_request(Kind.USAGE_STOP, member=member, actor=operator)
    other_member = open_request(Kind.MARKETING_STOP, member=MemberFactory(), actor=operator)

    def flags() -> dict[int, bool]:
        return dict(selectors.tickets_for_lists().values_list("pk", "has_duplicate"))

    assert flags() == {first.pk: True, second.pk: True, other_kind.pk: False, other_member.pk: False}

    services.submit_for_approval(first, outcome=Outcome.WITHDRAWN, actor=operator)
    services.approve(first, actor=supervisor)
    assert flags() == {first.pk: False, second.pk: False, other_kind.pk: False, other_member.pk: False}


def test_ticket_lists_need_one_query(operator, django_assert_max_num_queries):
    member = MemberFactory()
    for kind in (Kind.DISCLOSURE, Kind.CORRECTION, Kind.DELETION):
        open_request(kind, member=member, actor=operator)
    with django_assert_max_num_queries(1):
        rows = [
            (t.member.member_no, t.assignee.username, t.has_duplicate)
            for t in selectors.operator_queue(operator)
        ]
    assert len(rows) == 3


def test_closing_a_held_inquiry_ends_the_hold_and_keeps_the_time_held(operator, monkeypatch):
    start = timezone.now()
    clock = {"now": start}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    ticket = open_request(Kind.INQUIRY, member=None, actor=operator)
    services.hold(ticket, actor=operator, reason="折り返し待ち")
    clock["now"] = start + timedelta(minutes=45)
    services.close_ticket(ticket, actor=operator, note="折り返しで回答")

    ticket.refresh_from_db()
    assert not ticket.on_hold and ticket.hold_started_at is None
    assert ticket.held_seconds == 45 * 60
    assert ticket.held_total_seconds(now=start + timedelta(days=30)) == 45 * 60
