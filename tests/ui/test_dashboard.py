"""The supervisors' dashboard (センター状況, ``/dashboard/``): figures, charts, who may see it, cost."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bureaus.models import Bureau, SubmissionBatch
from consentoffice.home import dashboard as ds
from members.models import PartnerSyncEvent, SyncDirection, SyncStatus
from requests import rules
from requests.models import Ticket
from tests.factories import AffiliateFactory, MemberFactory
from tests.ui import login, ticket, unassigned

pytestmark = pytest.mark.django_db

Kind, Status = rules.Kind, rules.Status
DASHBOARD = "/dashboard/"
TOKYO = ZoneInfo("Asia/Tokyo")
# A Wednesday noon in Tokyo; its week began on Monday 2026-11-23.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=TOKYO)


def at(day: int, month: int = 11, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=TOKYO)


def close_at(t: Ticket, when: datetime, outcome: str = rules.Outcome.FULFILLED) -> None:
    """Test setup: a ticket that closed at ``when`` (the services stamp the real clock)."""
    Ticket.objects.filter(pk=t.pk).update(
        status=Status.CLOSED,
        outcome="" if t.kind in rules.CONVERSATION_KINDS else outcome,
        closed_at=when,
    )


# --- who may look ---------------------------------------------------------------------------


def test_operators_are_refused_the_dashboard(client, operator):
    login(client, operator)
    assert client.get(DASHBOARD).status_code == 403


@pytest.mark.parametrize("role", ["supervisor", "privacy_officer"])
def test_supervisors_and_the_privacy_officer_see_the_dashboard(client, request, role):
    login(client, request.getfixturevalue(role))
    assert client.get(DASHBOARD).status_code == 200


def test_anonymous_visitors_go_to_the_login(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_header_links_home_for_everyone_and_to_the_dashboard_for_supervisors(
    client, operator, supervisor
):
    login(client, operator)
    html = client.get("/admin/").content.decode()
    assert 'id="link-home"' in html and 'id="link-dashboard"' not in html
    login(client, supervisor)
    html = client.get("/admin/").content.decode()
    assert 'id="link-dashboard"' in html


# --- the figures ----------------------------------------------------------------------------


def test_week_starts_are_twelve_mondays_ending_with_this_week():
    mondays = ds.week_starts(now=NOW)
    assert len(mondays) == 12
    assert mondays[-1].isoformat() == "2026-11-23"
    assert mondays[0].isoformat() == "2026-09-07"
    assert all(m.weekday() == 0 for m in mondays)


def test_tickets_are_counted_in_the_tokyo_week_they_were_received_and_closed(operator):
    member = MemberFactory()
    # Monday 00:30 Tokyo is still Sunday in UTC: it belongs to the new week.
    early_monday = ticket(
        Kind.INQUIRY, member=member, actor=operator, received_at=at(23, hour=0) + timedelta(minutes=30)
    )
    sunday_night = ticket(Kind.INQUIRY, member=member, actor=operator, received_at=at(22, hour=23))
    ticket(Kind.DISCLOSURE, member=member, actor=operator, received_at=at(10))
    ticket(Kind.DISCLOSURE, member=member, actor=operator, received_at=datetime(2026, 1, 5, tzinfo=TOKYO))
    close_at(early_monday, at(24))
    close_at(sunday_night, at(24))

    weeks = {w.start.isoformat(): w for w in ds.weekly_tickets(now=NOW)}

    assert weeks["2026-11-23"].received == 1
    assert weeks["2026-11-16"].received == 1
    assert weeks["2026-11-09"].received == 1
    assert sum(w.received for w in weeks.values()) == 3  # January is outside the twelve weeks
    assert weeks["2026-11-23"].closed == 2
    assert weeks["2026-11-23"].closed_requests == 0  # inquiries have no legal deadline


def test_the_on_time_share_counts_requests_closed_by_their_legal_deadline(operator):
    member = MemberFactory()
    # Received on 4 November: due at the end of 18 November.
    on_time = ticket(Kind.DISCLOSURE, member=member, actor=operator, received_at=at(4))
    late = ticket(Kind.CORRECTION, member=member, actor=operator, received_at=at(4))
    inquiry = ticket(Kind.INQUIRY, member=member, actor=operator, received_at=at(4))
    close_at(on_time, on_time.due_at - timedelta(days=1))
    close_at(late, late.due_at + timedelta(seconds=1))
    close_at(inquiry, at(20))

    weeks = ds.weekly_tickets(now=NOW)
    week = {w.start.isoformat(): w for w in weeks}["2026-11-16"]

    assert (week.closed, week.closed_requests, week.closed_on_time) == (3, 2, 1)
    assert week.on_time_percent == 50.0
    assert ds.on_time_totals(weeks) == (1, 2)
    assert {w.start.isoformat(): w for w in weeks}["2026-11-09"].on_time_percent is None


def test_the_snapshot_counts_open_tickets_overdue_due_soon_awaiting_approval_and_unassigned(operator):
    from requests import services

    member = MemberFactory()
    now = timezone.now()
    ticket(Kind.DISCLOSURE, member=member, actor=operator, received_at=now - timedelta(days=20))
    ticket(Kind.DELETION, member=member, actor=operator, received_at=now - timedelta(days=12))
    unassigned(Kind.INQUIRY, member=member, actor=operator, received_at=now - timedelta(days=20))
    waiting = ticket(Kind.MARKETING_STOP, member=member, actor=operator)
    services.verify_identity(waiting, actor=operator, method="driver_license")
    services.submit_for_approval(waiting, outcome=rules.Outcome.FULFILLED, actor=operator)
    closed = ticket(Kind.INQUIRY, member=member, actor=operator)
    services.close_ticket(closed, actor=operator)

    assert ds.ticket_snapshot() == {
        "open": 4,
        "overdue": 1,  # an old inquiry has no legal deadline
        "due_soon": 1,
        "pending_approval": 1,
        "unassigned": 1,
        "on_hold": 0,
    }


def test_partner_sync_backlog_counts_outbound_pending_and_dead_events():
    member, affiliate = MemberFactory(), AffiliateFactory()

    def event(status, **fields):
        return PartnerSyncEvent.objects.create(
            member=member, affiliate=affiliate, payload={}, status=status, **fields
        )

    oldest = event(SyncStatus.PENDING, occurred_at=timezone.now() - timedelta(hours=5))
    event(SyncStatus.PENDING, attempts=2)
    event(SyncStatus.DEAD)
    event(SyncStatus.SENT)
    event(SyncStatus.PENDING, direction=SyncDirection.INBOUND)

    assert ds.partner_sync_snapshot() == {
        "pending": 2,
        "retrying": 1,
        "dead": 1,
        "oldest_pending": oldest.occurred_at,
    }


def test_registration_files_are_counted_per_week_with_their_rejects(supervisor):
    cic = Bureau.objects.get(code="CIC")
    SubmissionBatch.objects.create(
        bureau=cic, created_by=supervisor, created_at=at(24), record_count=40, rejected_count=3
    )
    SubmissionBatch.objects.create(
        bureau=cic, created_by=supervisor, created_at=at(25), record_count=10, rejected_count=0
    )
    SubmissionBatch.objects.create(bureau=cic, created_by=supervisor, created_at=at(17), record_count=7)

    weeks = {w["start"].isoformat(): w for w in ds.weekly_batches(now=NOW)}

    assert weeks["2026-11-23"] == {
        "start": weeks["2026-11-23"]["start"],
        "batches": 2,
        "records": 50,
        "rejected": 3,
    }
    assert weeks["2026-11-16"]["records"] == 7
    assert weeks["2026-11-09"]["batches"] == 0


# --- the page -------------------------------------------------------------------------------


def test_the_dashboard_draws_its_charts_as_accessible_svg_with_the_values_written(
    client, supervisor, operator
):
    member = MemberFactory()
    now = timezone.now()
    for n in range(3):
        done = ticket(Kind.DISCLOSURE, member=member, actor=operator, received_at=now - timedelta(days=n))
        close_at(done, now)
    login(client, supervisor)

    html = client.get(DASHBOARD).content.decode()

    charts = re.findall(
        r'<svg class="chart" id="([^"]+)" role="img" aria-labelledby="\1-title \1-desc"', html
    )
    assert charts == ["chart-flow", "chart-on-time", "chart-on-time-weekly", "chart-batches", "chart-bureaus"]
    flow = html.split('id="chart-flow"', 1)[1].split("</svg>", 1)[0]
    assert '<title id="chart-flow-title">週ごとの受付件数と完了件数</title>' in flow
    assert re.search(r'<text class="chart-value"[^>]*>3</text>', flow)  # three received this week
    donut = html.split('id="chart-on-time"', 1)[1].split("</svg>", 1)[0]
    assert ">100%</text>" in donut
    assert "<script" not in html.split('id="content-main"', 1)[1]
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(DASHBOARD).status_code == 200
    return len(ctx.captured_queries)


def test_the_dashboard_costs_the_same_queries_however_many_rows(
    client, supervisor, operator, django_assert_max_num_queries
):
    member, affiliate = MemberFactory(), AffiliateFactory()
    cic = Bureau.objects.get(code="CIC")
    login(client, supervisor)
    few = _dashboard_queries(client)

    now = timezone.now()
    for n in range(30):
        done = ticket(Kind.CORRECTION, member=member, actor=operator, received_at=now - timedelta(days=n * 2))
        close_at(done, now - timedelta(days=n))
        PartnerSyncEvent.objects.create(
            member=member, affiliate=affiliate, payload={}, status=SyncStatus.DEAD
        )
        SubmissionBatch.objects.create(
            bureau=cic, created_by=supervisor, created_at=now - timedelta(days=n * 3)
        )
    cache.delete(ds.FIGURES_KEY)  # counted again, as a minute later
    many = _dashboard_queries(client)

    assert few == many
    with django_assert_max_num_queries(14):
        client.get(DASHBOARD)


def test_time_of_day_does_not_shift_weeks_in_utc():
    # Sunday 23:59 Tokyo is the previous week even though the server clock runs in UTC.
    sunday = datetime.combine(NOW.date() - timedelta(days=3), time(23, 59), tzinfo=TOKYO)
    assert ds.week_starts(now=sunday)[-1].isoformat() == "2026-11-16"


def test_a_refused_operator_gets_a_japanese_page_that_leads_back_home(client, operator):
    login(client, operator)
    response = client.get(DASHBOARD)
    html = response.content.decode()
    assert response.status_code == 403
    assert "この画面を開く権限がありません" in html
    assert 'href="/"' in html


def _submission(bureau, member, status):
    from bureaus.models import RecordType, Submission

    return Submission.objects.create(
        bureau=bureau, member=member, record_type=RecordType.APPLICATION, event_date=NOW.date(), status=status
    )


def test_bureau_status_counts_each_bureaus_pending_sent_and_rejected_records_in_a_fixed_number_of_queries():
    from bureaus.models import SubmissionStatus

    cic, other = Bureau.objects.order_by("pk")[:2]
    member = MemberFactory()

    def counted():
        with CaptureQueriesContext(connection) as ctx:
            rows = ds.bureau_status()
        figures = {b.pk: (b.pending_count, b.batched_count, b.rejected_count) for b in rows}
        return figures, len(ctx.captured_queries)

    empty, queries = counted()
    assert empty[cic.pk] == empty[other.pk] == (0, 0, 0)
    for status, n in (
        (SubmissionStatus.PENDING, 3),
        (SubmissionStatus.BATCHED, 2),
        (SubmissionStatus.REJECTED, 1),
    ):
        for _ in range(n):
            _submission(cic, member, status)
    _submission(other, member, SubmissionStatus.PENDING)
    _submission(cic, member, SubmissionStatus.ACCEPTED)  # answered: in none of the three
    figures, queries_after = counted()
    assert figures[cic.pk] == (3, 2, 1)
    assert figures[other.pk] == (1, 0, 0)
    assert queries_after == queries <= 4  # the counts, and on PostgreSQL JIT switched off in its transaction


def test_the_center_figures_are_counted_once_a_minute_and_say_when(client, supervisor, supervisor2, operator):
    """The counts read rows in proportion to the center's size (every pending bureau record, every
    open ticket): all supervisors' views within a minute share one count, and the page says when
    it was made. The partner-sync backlog is read live."""
    from bureaus.models import SubmissionStatus

    cic = Bureau.objects.get(code="CIC")
    member = MemberFactory()
    _submission(cic, member, SubmissionStatus.PENDING)
    ticket(Kind.DISCLOSURE, member=member, actor=operator)
    counted = timezone.now()
    first = ds.center_figures(now=counted)
    assert {b.code: b.pending_count for b in first.bureaus}["CIC"] == 1 and first.tickets["open"] == 1
    _submission(cic, member, SubmissionStatus.PENDING)
    ticket(Kind.CORRECTION, member=MemberFactory(), actor=operator)

    with CaptureQueriesContext(connection) as ctx:
        kept = ds.center_figures(now=counted + timedelta(seconds=ds.FIGURES_SECONDS - 1))
    assert len(ctx.captured_queries) == 0
    assert {b.code: b.pending_count for b in kept.bureaus}["CIC"] == 1 and kept.tickets["open"] == 1
    assert kept.counted_at == counted

    login(client, supervisor2)
    html = client.get(DASHBOARD).content.decode()
    note = re.search(r'data-figure="counted_at">([^<]+)<', html).group(1)
    assert note.startswith(f"{timezone.localtime(counted):%Y年%-m月%-d日%-H:%M}")
    assert "時点の件数です（1分ごとに数え直します。" in note
    assert re.search(r'data-figure="open">1<', html)

    later = ds.center_figures(now=counted + timedelta(seconds=ds.FIGURES_SECONDS))
    assert {b.code: b.pending_count for b in later.bureaus}["CIC"] == 2 and later.tickets["open"] == 2
    assert later.counted_at > counted
    # A clock that went back (another server's time) never serves figures "from the future".
    earlier = ds.center_figures(now=counted - timedelta(seconds=5))
    assert earlier.counted_at == counted - timedelta(seconds=5)
