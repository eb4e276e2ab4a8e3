"""``manage.py seed_demo`` beyond the members: tickets in every state, bureau records, partner
sync events and notifications, written through the services and added only once."""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.test import override_settings

from bureaus.models import BatchStatus, Inquiry, Submission, SubmissionBatch, SubmissionStatus
from consentoffice.core.history import SYSTEM_USERNAME
from consentoffice.home import dashboard as dashboard_selectors
from consentoffice.models import Notification
from members import demo as members_demo
from members.models import PartnerSyncEvent, ProvisionRecord, RecipientKind, SyncStatus
from requests import demo, rules
from requests.models import DisclosurePackage, Ticket

N = 20
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(members: int = N) -> str:
    out = io.StringIO()
    call_command("seed_demo", members=members, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """One seed per class in a transaction rolled back afterwards (see tests/members/test_seed_demo.py)."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        with transaction.atomic():
            yield seed()
            transaction.set_rollback(True)


def row_counts() -> dict[str, int]:
    counts = {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"members", "consentoffice", "requests", "bureaus"}
    }
    counts["users"] = get_user_model().objects.count()
    return counts


def states(kind: str) -> set[str]:
    return set(Ticket.objects.filter(kind=kind).values_list("status", flat=True))


@pytest.mark.usefixtures("seeded")
class TestSeededTickets:
    def test_every_request_kind_exists_in_every_status_and_on_hold(self, db):
        for kind in rules.REQUEST_KINDS:
            assert states(kind) == {s for s, _label in rules.STATUS_CHOICES}, kind
            assert Ticket.objects.filter(kind=kind, on_hold=True).exists(), kind

    def test_inquiries_and_opinions_exist_in_every_status_they_can_reach(self, db):
        for kind in rules.CONVERSATION_KINDS:
            assert states(kind) == {s for s, _label in rules.STATUS_CHOICES} - {rules.Status.PENDING_APPROVAL}
            assert Ticket.objects.filter(kind=kind, on_hold=True).exists(), kind

    def test_closed_requests_show_every_outcome_their_kind_allows(self, db):
        for kind in rules.REQUEST_KINDS:
            outcomes = set(
                Ticket.objects.filter(kind=kind, status=rules.Status.CLOSED).values_list("outcome", flat=True)
            )
            # A stop has no partial answer; a marketing stop is never refused (rules.OUTCOMES_NOT_FOR_KIND).
            assert outcomes == {code for code, _label in rules.outcome_choices(kind)}, kind

    def test_the_queues_hold_due_soon_overdue_unassigned_and_the_demo_operators_tickets(self, db):
        snapshot = dashboard_selectors.ticket_snapshot()

        assert snapshot["overdue"] and snapshot["due_soon"] and snapshot["unassigned"]
        assert snapshot["pending_approval"] and snapshot["on_hold"]
        open_tickets = Ticket.objects.filter(status__in=rules.OPEN_STATUSES)
        assert open_tickets.filter(assignee__username="operator").exists()

    def test_every_week_of_the_dashboard_has_tickets_received_and_closed(self, db):
        weeks = dashboard_selectors.weekly_tickets()

        assert all(week.received for week in weeks), weeks
        assert sum(1 for week in weeks if week.closed) >= len(weeks) - 1, weeks
        on_time, closed = dashboard_selectors.on_time_totals(weeks)
        assert 0 < on_time < closed  # mostly on time, a few late

    def test_history_names_a_demo_user_or_the_system_and_a_reason(self, db):
        allowed = {spec.username for spec in members_demo.DEMO_USERS} | {SYSTEM_USERNAME}
        for model in (Ticket, Submission, SubmissionBatch, Inquiry, PartnerSyncEvent, DisclosurePackage):
            history = model.history.all()
            assert history.exists(), model
            assert set(history.values_list("history_user__username", flat=True)) <= allowed, model
            assert not history.filter(history_change_reason="").exists(), model

    def test_requests_are_approved_by_a_supervisor_other_than_who_prepared_them(self, db):
        closed = Ticket.objects.filter(status=rules.Status.CLOSED, kind__in=rules.REQUEST_KINDS)

        assert set(closed.values_list("approver__username", flat=True)) <= {"supervisor", "supervisor2"}
        assert set(closed.values_list("prepared_by__username", flat=True)) <= {"operator", "operator2"}
        assert not closed.filter(closed_at__lt=F("received_at")).exists()

    def test_bureau_records_include_a_batch_answered_with_a_reject_and_pending_ones(self, db):
        assert Inquiry.objects.exists()
        answered = SubmissionBatch.objects.get(status=BatchStatus.ANSWERED)
        assert answered.rejected_count == 1 and answered.accepted_count == answered.record_count - 1
        assert SubmissionBatch.objects.exclude(status=BatchStatus.ANSWERED).exists()
        statuses = set(Submission.objects.values_list("status", flat=True))
        assert {SubmissionStatus.PENDING, SubmissionStatus.REJECTED, SubmissionStatus.ACCEPTED} <= statuses
        assert ProvisionRecord.objects.filter(recipient_kind=RecipientKind.BUREAU).exists()

    def test_partner_sync_has_a_dead_event_and_notifications_reach_the_home_pages(self, db):
        statuses = list(PartnerSyncEvent.objects.values_list("status", flat=True))
        assert statuses.count(SyncStatus.DEAD) == 1
        assert SyncStatus.SENT in statuses
        kinds = set(Notification.objects.values_list("kind", flat=True))
        assert {
            Notification.Kind.DUE_SOON,
            Notification.Kind.OVERDUE,
            Notification.Kind.ESCALATION,
            Notification.Kind.BUREAU_REJECT,
            Notification.Kind.SYNC_DEAD,
        } <= kinds
        assert Notification.objects.filter(user__username="operator").exists()

    def test_a_second_run_adds_nothing(self, db):
        before = row_counts()
        tickets = list(Ticket.objects.order_by("pk").values("number", "status", "version"))

        output = seed()

        assert row_counts() == before
        assert list(Ticket.objects.order_by("pk").values("number", "status", "version")) == tickets
        assert "tickets: 0" in output and "bureau records: 0" in output


def test_without_members_the_seed_opens_no_ticket(db):
    output = seed(members=0)

    assert not Ticket.objects.exists() and not Inquiry.objects.exists()
    assert "tickets: 0" in output


def test_ticket_plans_cover_every_kind_and_are_the_same_on_every_call():
    plans = demo.ticket_plans()

    assert plans == demo.ticket_plans()
    assert {plan.kind for plan in plans} == {code for code, _label in rules.KIND_CHOICES}
    ages = [plan.days_ago for plan in plans]
    assert min(ages) < 1 and max(ages) > 7 * (demo.WEEKS - 1)  # from today back over the twelve weeks
