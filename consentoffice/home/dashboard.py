"""Figures for the supervisors' dashboard (センター状況), each one aggregate query.

Everything is counted in the database (``COUNT … FILTER``, ``GROUP BY`` week) on ranges the
indexes cover (``Ticket.received_at``, ``Ticket.closed_at``, ``Ticket.status``,
``PartnerSyncEvent.status``, ``Submission.bureau/status`` and the pending records' partial index),
so the page costs the same handful of queries at a thousand tickets or a million; Python only
walks the ≤ 12 weekly rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import router, transaction
from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from bureaus.models import Bureau, SubmissionBatch
from bureaus.selectors import bureaus_overview
from consentoffice.core.queries import jit_off
from members.models import PartnerSyncEvent, SyncDirection, SyncStatus
from requests import rules
from requests.models import Ticket
from requests.selectors import due_filter

WEEKS = 12


@dataclass(frozen=True)
class WeekRow:
    """One calendar week (Monday–Sunday, Tokyo time) of the ticket flow."""

    start: date
    received: int = 0
    closed: int = 0
    closed_requests: int = 0
    closed_on_time: int = 0

    @property
    def on_time_percent(self) -> float | None:
        """Share of the requests closed this week that closed by their legal deadline (APPI Art. 39)."""
        if not self.closed_requests:
            return None
        return round(100 * self.closed_on_time / self.closed_requests, 1)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def week_starts(*, weeks: int = WEEKS, now: datetime | None = None) -> list[date]:
    """The Mondays of the last ``weeks`` weeks, oldest first, this week last."""
    today = timezone.localdate(now or timezone.now())
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _week_key(value: datetime | date) -> date:
    if isinstance(value, datetime):
        return value.astimezone(_tz()).date()
    return value


def weekly_tickets(*, weeks: int = WEEKS, now: datetime | None = None) -> list[WeekRow]:
    """Tickets received and closed per week, and of the requests closed how many met the deadline.

    Two grouped queries (received, closed). A request counts as on time when it closed no later than
    its ``due_at`` (the 14th day, APPI Art. 39); inquiries and opinions have no legal deadline and
    are left out of the share.
    """
    mondays = week_starts(weeks=weeks, now=now)
    since = datetime.combine(mondays[0], time.min, tzinfo=_tz())
    received = (
        Ticket.objects.filter(received_at__gte=since)
        .annotate(week=TruncWeek("received_at", tzinfo=_tz()))
        .order_by()
        .values("week")
        .annotate(n=Count("*"))  # COUNT(*): answered from ticket_received_idx alone (index-only scan)
    )
    closed = (
        Ticket.objects.filter(closed_at__gte=since)
        .annotate(week=TruncWeek("closed_at", tzinfo=_tz()))
        .order_by()
        .values("week")
        .annotate(
            # Only columns of ticket_closed_idx (closed_at, kind, due_at): an index-only scan.
            n=Count("*"),
            requests=Count("kind", filter=Q(kind__in=rules.REQUEST_KINDS)),
            on_time=Count("kind", filter=Q(kind__in=rules.REQUEST_KINDS, closed_at__lte=F("due_at"))),
        )
    )
    rows = {monday: {"start": monday} for monday in mondays}
    for row in received:
        key = _week_key(row["week"])
        if key in rows:
            rows[key]["received"] = row["n"]
    for row in closed:
        key = _week_key(row["week"])
        if key in rows:
            rows[key].update(closed=row["n"], closed_requests=row["requests"], closed_on_time=row["on_time"])
    return [WeekRow(**rows[monday]) for monday in mondays]


def on_time_totals(weeks: list[WeekRow]) -> tuple[int, int]:
    """(requests closed on time, requests closed) over the weeks shown."""
    return sum(w.closed_on_time for w in weeks), sum(w.closed_requests for w in weeks)


def ticket_snapshot(*, now: datetime | None = None) -> dict[str, int]:
    """Open tickets now: all, overdue, due soon (≤ 3 days), waiting for approval, unassigned, on hold."""
    now = now or timezone.now()
    return Ticket.objects.filter(status__in=rules.OPEN_STATUSES).aggregate(
        open=Count("pk"),
        overdue=Count("pk", filter=due_filter("overdue", now)),
        due_soon=Count("pk", filter=due_filter("due_soon", now)),
        pending_approval=Count("pk", filter=Q(status=rules.Status.PENDING_APPROVAL)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        on_hold=Count("pk", filter=Q(on_hold=True)),
    )


def partner_sync_snapshot() -> dict:
    """Outbound partner-sync events not yet delivered (backlog), dead ones, and the oldest waiting.

    Only pending and dead rows are read (``sync_due_idx`` starts with ``status``); sent events, the
    bulk of the table, are never scanned.
    """
    waiting = Q(status=SyncStatus.PENDING)
    return PartnerSyncEvent.objects.filter(
        direction=SyncDirection.OUTBOUND, status__in=[SyncStatus.PENDING, SyncStatus.DEAD]
    ).aggregate(
        pending=Count("pk", filter=waiting),
        retrying=Count("pk", filter=waiting & Q(attempts__gt=0)),
        dead=Count("pk", filter=Q(status=SyncStatus.DEAD)),
        oldest_pending=Min("occurred_at", filter=waiting),
    )


def bureau_status() -> list[Bureau]:
    """Each bureau with records waiting to be sent, sent and unanswered, and rejected (one query).

    At a million members about a million records wait for the monthly file: the pending count is
    an index-only scan of ``submission_pending_idx`` (~0.1 s; VACUUM keeps its pages all-visible,
    docs/operations.md). Its cost estimate is high enough that PostgreSQL compiled the plan with JIT
    first (0.5 s, more than the scan), so JIT is off for this statement."""
    with transaction.atomic(using=router.db_for_read(Bureau)):
        jit_off(router.db_for_read(Bureau))
        return list(bureaus_overview())


@dataclass(frozen=True)
class CenterFigures:
    """The center-wide figures of the dashboard as counted at ``counted_at`` (what the cache keeps):
    the weekly flow, the registration files, each bureau's records and the open tickets now."""

    counted_at: datetime
    weeks: list[WeekRow]
    batches: list[dict]
    bureaus: list[Bureau]
    tickets: dict[str, int]


# These counts read rows in proportion to the center's size: the bureaus' pending records (about
# one per member, ~0.1 s at a million members), the open tickets (index-only, ~1 µs each) and the
# last twelve weeks' tickets and files. Every supervisor's dashboard shares one count per minute
# instead of running them per view, so the page costs the same at any size (issue 18); the page
# says when they were counted. The partner-sync backlog stays live (it reads only waiting rows).
FIGURES_SECONDS = 60
FIGURES_KEY = "dashboard:center-figures:v1"


def center_figures(*, now: datetime | None = None) -> CenterFigures:
    """The figures as counted within the last ``FIGURES_SECONDS`` (counted again when the kept
    ones are older or missing), with when they were counted."""
    now = now or timezone.now()
    figures = cache.get(FIGURES_KEY)
    if figures is None or not timedelta(0) <= now - figures.counted_at < timedelta(seconds=FIGURES_SECONDS):
        figures = CenterFigures(
            counted_at=now,
            weeks=weekly_tickets(now=now),
            batches=weekly_batches(now=now),
            bureaus=bureau_status(),
            tickets=ticket_snapshot(now=now),
        )
        cache.set(FIGURES_KEY, figures, FIGURES_SECONDS)
    return figures


def weekly_batches(*, weeks: int = WEEKS, now: datetime | None = None) -> list[dict]:
    """Registration files per week: files, records sent, records the bureaus rejected."""
    mondays = week_starts(weeks=weeks, now=now)
    since = datetime.combine(mondays[0], time.min, tzinfo=_tz())
    grouped = (
        SubmissionBatch.objects.filter(created_at__gte=since)
        .annotate(week=TruncWeek("created_at", tzinfo=_tz()))
        .order_by()
        .values("week")
        .annotate(batches=Count("pk"), records=Sum("record_count"), rejected=Sum("rejected_count"))
    )
    rows = {monday: {"start": monday, "batches": 0, "records": 0, "rejected": 0} for monday in mondays}
    for row in grouped:
        key = _week_key(row["week"])
        if key in rows:
            rows[key].update(
                batches=row["batches"], records=row["records"] or 0, rejected=row["rejected"] or 0
            )
    return [rows[monday] for monday in mondays]
