"""Reads for the operator home (業務ホーム): the user's tickets, unassigned ones, notifications, alerts.

Every list is cut to ``HOME_LIST_LIMIT`` rows and counted by one aggregate, so the page costs the
same queries however many tickets are open; the full lists are the admin queues.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, QuerySet
from django.utils import timezone

from bureaus.selectors import open_reject_count
from consentoffice.models import Notification
from members.models import PartnerSyncEvent, SyncDirection, SyncStatus
from requests import rules
from requests.models import Ticket
from requests.selectors import approval_queue, due_filter, operator_queue

HOME_LIST_LIMIT = 15
NOTIFICATION_LIMIT = 10


def my_tickets(user) -> list[Ticket]:
    """The user's open tickets, the nearest legal deadline first."""
    return list(operator_queue(user, scope="mine")[:HOME_LIST_LIMIT])


def approvals_waiting(user) -> list[Ticket]:
    """Outcomes waiting for the user's approval (none they prepared), the oldest request first —
    the nearest legal deadline, as every request is due a fixed 14 days after it arrived. One row
    more than the page shows, so it knows whether there are more."""
    return list(approval_queue(user)[: HOME_LIST_LIMIT + 1])


def unassigned_tickets(user) -> list[Ticket]:
    """Open tickets nobody has taken yet, the nearest legal deadline first."""
    return list(operator_queue(user, scope="unassigned")[:HOME_LIST_LIMIT])


def ticket_counts(user, *, now: datetime | None = None) -> dict[str, int]:
    """How many open tickets are the user's (and of those overdue / due soon), and unassigned.

    Two counts, each over its own range of ``ticket_open_assignee_idx`` (index-only): the user's
    open tickets and the unassigned ones are read, never the colleagues' work, so the count does not
    grow with the center (issue 18)."""
    now = now or timezone.now()
    open_tickets = Ticket.objects.filter(status__in=rules.OPEN_STATUSES)
    mine = open_tickets.filter(assignee=user).aggregate(
        mine=Count("pk"),
        mine_overdue=Count("pk", filter=due_filter("overdue", now)),
        mine_due_soon=Count("pk", filter=due_filter("due_soon", now)),
    )
    unassigned = open_tickets.filter(assignee__isnull=True).aggregate(
        unassigned=Count("pk"),
        unassigned_overdue=Count("pk", filter=due_filter("overdue", now)),
    )
    return {**mine, **unassigned}


def unread_notifications(user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user, read_at__isnull=True).order_by("-created_at", "-id")


def system_alerts(user) -> dict[str, int | None]:
    """Open bureau rejects and dead partner-sync events, for the users whose work they are.

    ``None`` where the user may not see that list (operators do not see partner-sync events).
    """
    alerts: dict[str, int | None] = {"bureau_rejects": None, "sync_dead": None}
    if user.has_perm("bureaus.view_submission"):
        alerts["bureau_rejects"] = open_reject_count()
    if user.has_perm("members.view_partnersyncevent"):
        alerts["sync_dead"] = PartnerSyncEvent.objects.filter(
            status=SyncStatus.DEAD, direction=SyncDirection.OUTBOUND
        ).count()
    return alerts
