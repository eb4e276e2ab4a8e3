"""A ticket closed on paper and entered afterwards (demo data, records carried over) keeps the
moment it closed, which the dashboard's weekly on-time figures read (APPI Art. 39)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from requests import rules, services
from tests.factories import MemberFactory
from tests.requests import open_request

Kind, Status, Outcome = rules.Kind, rules.Status, rules.Outcome


def _withdrawn(operator, *, days_ago: int):
    ticket = open_request(
        Kind.MARKETING_STOP,
        member=MemberFactory(),
        actor=operator,
        received_at=timezone.now() - timedelta(days=days_ago),
    )
    return services.submit_for_approval(ticket, outcome=Outcome.WITHDRAWN, actor=operator, reason="取下げ")


def test_an_approval_entered_later_keeps_the_day_it_closed(operator, supervisor):
    ticket = _withdrawn(operator, days_ago=30)
    closed_at = ticket.received_at + timedelta(days=5)

    services.approve(ticket, actor=supervisor, closed_at=closed_at)

    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at == closed_at == ticket.approved_at
    assert ticket.closed_at <= ticket.due_at


def test_an_inquiry_closed_later_keeps_the_day_it_closed(operator):
    ticket = open_request(
        Kind.INQUIRY, member=None, actor=operator, received_at=timezone.now() - timedelta(days=9)
    )
    closed_at = ticket.received_at + timedelta(days=1)

    services.close_ticket(ticket, actor=operator, closed_at=closed_at)

    ticket.refresh_from_db()
    assert ticket.closed_at == closed_at


@pytest.mark.parametrize("when", ["before_receipt", "future"])
def test_a_closing_time_before_receipt_or_in_the_future_is_refused(when, operator, supervisor):
    ticket = _withdrawn(operator, days_ago=3)
    closed_at = {
        "before_receipt": ticket.received_at - timedelta(hours=1),
        "future": timezone.now() + timedelta(days=1),
    }[when]

    with pytest.raises(ValidationError) as raised:
        services.approve(ticket, actor=supervisor, closed_at=closed_at)

    assert "closed_at" in raised.value.message_dict
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_APPROVAL and ticket.closed_at is None
