"""Deadline reminders (APPI Art. 39): due soon, overdue, escalation — once per ticket, kind and day."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from consentoffice.models import Notification
from requests import reminders, rules
from requests.models import Reminder
from tests.factories import MemberFactory
from tests.requests import open_request

TOKYO = ZoneInfo("Asia/Tokyo")
RECEIVED = datetime(2026, 11, 1, 10, 0, tzinfo=TOKYO)  # due 2026-11-15 23:59:59
DUE_SOON = datetime(2026, 11, 13, 9, 0, tzinfo=TOKYO)
OVERDUE_HOURS = datetime(2026, 11, 16, 9, 0, tzinfo=TOKYO)
OVERDUE_DAYS = datetime(2026, 11, 17, 9, 0, tzinfo=TOKYO)


@pytest.fixture
def ticket(operator, supervisor):
    operator.email = "op@example.jp"
    operator.save()
    supervisor.email = "sv@example.jp"
    supervisor.save()
    return open_request(rules.Kind.DISCLOSURE, member=MemberFactory(), actor=operator, received_at=RECEIVED)


def test_due_soon_goes_to_the_assignee_once(ticket, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = reminders.send_deadline_reminders(now=DUE_SOON)
    assert run.created == {"due_soon": 1}
    assert Reminder.objects.get().recipients == [operator.pk]
    assert Notification.objects.get().user == operator
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["op@example.jp"]
    assert ticket.number in mail.outbox[0].body and ticket.member.family_name not in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        again = reminders.send_deadline_reminders(now=DUE_SOON + timedelta(hours=3))
    assert not again.created and Reminder.objects.count() == 1 and len(mail.outbox) == 1


def test_overdue_goes_to_the_assignee_and_the_supervisors(ticket, operator, supervisor):
    reminders.send_deadline_reminders(now=OVERDUE_HOURS)
    reminder = Reminder.objects.get(kind="overdue")
    assert set(reminder.recipients) == {operator.pk, supervisor.pk}
    assert not Reminder.objects.filter(kind="escalation").exists()  # less than a day over


def test_a_day_overdue_escalates_once_with_history(ticket, supervisor, privacy_officer):
    reminders.send_deadline_reminders(now=OVERDUE_DAYS)
    ticket.refresh_from_db()
    assert ticket.escalated_at is not None
    assert ticket.history.first().history_change_reason == "期限超過のためエスカレーション"
    escalation = Reminder.objects.get(kind="escalation")
    assert {supervisor.pk, privacy_officer.pk} <= set(escalation.recipients)
    reminders.send_deadline_reminders(now=OVERDUE_DAYS + timedelta(days=1))
    assert Reminder.objects.filter(kind="escalation").count() == 1
    assert Reminder.objects.filter(kind="overdue").count() == 2  # one a day


def test_closed_tickets_and_inquiries_get_no_reminders(operator):
    open_request(rules.Kind.INQUIRY, member=MemberFactory(), actor=operator, received_at=RECEIVED)
    assert not reminders.send_deadline_reminders(now=OVERDUE_DAYS).created
