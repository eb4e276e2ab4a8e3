"""The job timings: the disclosure package, the bureau batch, the partner-sync drain, the reminder
run and the marketing extract, each rolled back."""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consentoffice.core import roles
from consentoffice.devtools.bench.children import _child_into
from consentoffice.devtools.bench.client import Context
from consentoffice.devtools.bench.report import (
    BUREAU_PEAK_MB,
    BUREAU_RECORDS,
    BUREAU_SECONDS,
    DISCLOSURE_MS,
    EXTRACT_MEMBERS,
    EXTRACT_PEAK_MB,
    EXTRACT_SECONDS,
    PARTNER_EVENTS_PER_SECOND,
    REMINDER_OPEN_TICKETS,
    REMINDER_SECONDS,
    Row,
    percentile,
)
from members.models import Member

HEAVY_CASES = ("disclosure", "bureau_batch", "partner_sync", "reminders", "marketing_extract")


def case_disclosure(ctx: Context) -> Row:
    """A disclosure package for the heaviest member (APPI Art. 33), rolled back, file removed."""
    from django.core.files.storage import storages

    from requests import rules, services

    row = Row("disclosure", "開示パッケージ disclosure package", target=f"≤ {DISCLOSURE_MS} ms")
    if ctx.heaviest is None:
        row.note = "n/a (no members)"
        return row
    times, queries, files = [], 0, []
    for _ in range(max(1, min(ctx.runs, 5))):
        with transaction.atomic():
            ticket = services.open_ticket(
                kind=rules.Kind.DISCLOSURE, member=ctx.heaviest, channel="mail", actor=ctx.operator
            )
            services.verify_identity(ticket, actor=ctx.operator, method="driver_license")
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                package = services.build_disclosure_package(ticket, actor=ctx.operator)
                times.append((time.perf_counter() - started) * 1000)
            queries = len(captured.captured_queries)
            files.append(package.file)
            transaction.set_rollback(True)
    storage = storages["private"]
    for name in files:
        if name and storage.exists(name):
            storage.delete(name)
    row.median_ms, row.p95_ms, row.queries = statistics.median(times), percentile(times, 95), queries
    row.met = row.p95_ms <= DISCLOSURE_MS
    row.note = f"member {ctx.heaviest.member_no}, {len(times)} runs"
    return row


def case_bureau_batch(ctx: Context) -> Row:
    """``bureaus.services.build_batches`` over 1,000,000 pending submissions, in a child process so
    its peak memory is its own (ru_maxrss), rolled back there."""
    row = Row(
        "bureau_batch",
        "信用情報機関 登録ファイル bureau batch",
        target=f"≤ {BUREAU_SECONDS} s, ≤ {BUREAU_PEAK_MB} MB",
    )
    result = _child_into(row, f"bureau_child({ctx.bureau_records:d})")
    if result is None:
        return row
    seconds = result["seconds"]
    row.units = result["records"]
    row.figure = (
        f"{result['records']:,} records, peak RSS {result['peak_mb']:.0f} MB (+{result['delta_mb']:.0f} MB)"
    )
    row.met = (
        seconds <= BUREAU_SECONDS
        and result["peak_mb"] <= BUREAU_PEAK_MB
        and result["records"] >= BUREAU_RECORDS
    )
    if result.get("created"):
        row.note = f"{result['created']:,} pending submissions added for the run"
    return row


# A fake affiliate (提携先) answering every partner-sync POST with 200, run as its own process so
# it does not share this process's interpreter lock with the sender being measured. HTTP/1.1
# keep-alive and no Nagle delay, as a production web server answers.
FAKE_AFFILIATE = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        return

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def start_fake_affiliate() -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, "-c", FAKE_AFFILIATE], stdout=subprocess.PIPE, text=True)
    port = int(process.stdout.readline())
    return process, port


def case_partner_sync(ctx: Context) -> Row:
    """Drain ``events`` pending outbound events to a local fake affiliate (events per second)."""
    from members import partner_sync
    from members.models import Affiliate, PartnerSyncEvent

    row = Row(
        "partner_sync",
        "提携先連携の送信 partner sync drain",
        target=f"≥ {PARTNER_EVENTS_PER_SECOND} events/s",
    )
    members = list(Member.objects.order_by("pk").values_list("pk", "member_no")[: ctx.sync_events])
    if not members:
        row.note = "n/a (no members)"
        return row
    server, port = start_fake_affiliate()
    try:
        with transaction.atomic():
            affiliate = Affiliate(
                code=f"bench-{uuid.uuid4().hex[:8]}",
                name="ベンチ用提携先",
                endpoint=f"http://127.0.0.1:{port}/",
                shared_secret="bench-shared-secret",
                active=True,
            )
            affiliate.save()
            now = timezone.now() - timedelta(seconds=1)
            PartnerSyncEvent.objects.bulk_create(
                [
                    PartnerSyncEvent(
                        member_id=pk,
                        affiliate=affiliate,
                        payload={"member_no": no, "changes": {"city": "新宿区西新宿"}},
                        next_attempt_at=now,
                        occurred_at=now,
                    )
                    for pk, no in members
                ],
                batch_size=1000,
            )
            httpx_logger = logging.getLogger("httpx")
            level = httpx_logger.level
            httpx_logger.setLevel(logging.WARNING)  # one INFO line per request otherwise
            try:
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    result = partner_sync.deliver_due_events(limit=len(members))
                    seconds = time.perf_counter() - started
            finally:
                httpx_logger.setLevel(level)
            transaction.set_rollback(True)
    finally:
        server.terminate()
        server.wait(timeout=10)
    rate = result.sent / seconds if seconds else 0.0
    row.median_ms = row.p95_ms = seconds * 1000
    row.queries = len(captured.captured_queries)
    row.units = result.sent
    row.figure = f"{rate:.0f} events/s ({result.sent} sent, {result.retried} retried, {result.dead} dead)"
    row.met = rate >= PARTNER_EVENTS_PER_SECOND and result.sent == len(members)
    return row


def _add_open_tickets(count: int) -> int:
    """Open request tickets added for the reminder run (inside its rolled-back transaction):
    received over the last 20 days, so some are overdue, some due soon, most not yet."""
    from requests import rules

    if count <= 0:
        return 0
    member_ids = list(Member.objects.order_by("pk").values_list("pk", flat=True)[:count])
    operators = list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.OPERATOR)
        .values_list("pk", flat=True)[:20]
    )
    if not member_ids or not operators:
        return 0
    now = timezone.now()
    kinds = sorted(rules.REQUEST_KINDS)
    columns = (
        "number, kind, channel, summary, requester_type, agent_name, agent_verified, identity_method, "
        "identity_documents_seen, received_at, due_at, status, outcome, refusal_ground, outcome_reason, "
        "response_method, fee_amount, on_hold, hold_reason, sent_back_reason, held_seconds, version, assignee_id, "
        "member_id"
    )
    statuses = ("received", "verifying", "in_progress", "pending_approval")
    token = uuid.uuid4().hex[:6]
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY requests_ticket ({columns}) FROM STDIN") as copy:
            for n in range(count):
                received = now - timedelta(minutes=(n * 28_800) // count)  # spread over 20 days
                copy.write_row(
                    (
                        f"TB{token}{n:07d}",
                        kinds[n % len(kinds)],
                        "mail",
                        "",
                        "self",
                        "",
                        False,
                        "",
                        0,
                        received,
                        rules.due_at(received),
                        statuses[n % 4],
                        "",
                        "",
                        "",
                        "paper",
                        0,
                        False,
                        "",
                        "",
                        0,
                        1,
                        operators[n % len(operators)],
                        member_ids[n % len(member_ids)],
                    )
                )
    return count


def case_reminders(ctx: Context) -> Row:
    """``requests.reminders.send_deadline_reminders`` over 100,000 open request tickets, rolled back."""
    from requests import reminders, rules
    from requests.models import Ticket

    row = Row(
        "reminders",
        "期限リマインダー reminder run",
        target=f"≤ {REMINDER_SECONDS} s over {REMINDER_OPEN_TICKETS:,} open",
    )
    with transaction.atomic():
        existing = Ticket.objects.filter(status__in=rules.OPEN_STATUSES, kind__in=rules.REQUEST_KINDS).count()
        added = _add_open_tickets(ctx.reminder_tickets - existing)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            run = reminders.send_deadline_reminders()
            seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    row.median_ms = row.p95_ms = seconds * 1000
    row.queries = len(captured.captured_queries)
    open_total = existing + added
    row.units = open_total
    row.figure = f"{open_total:,} open, {sum(run.created.values()):,} reminders"
    row.met = seconds <= REMINDER_SECONDS and open_total >= REMINDER_OPEN_TICKETS
    row.note = f"{added:,} temporary open tickets added for the run" if added else ""
    return row


def case_marketing_extract(ctx: Context) -> Row:
    """A full marketing extract (``members.extracts``: the COUNT the page shows, the access-log
    INSERT … SELECT, the CSV streamed to a sink) for own marketing by post, in a child process so
    its peak memory is its own, rolled back there."""
    row = Row(
        "marketing_extract",
        "営業リスト抽出 marketing extract",
        target=f"≤ {EXTRACT_SECONDS} s, ≤ {EXTRACT_PEAK_MB} MB at {EXTRACT_MEMBERS:,} members",
    )
    result = _child_into(row, "extract_child()")
    if result is None:
        return row
    seconds = result["seconds"]
    row.units = result["members"]
    row.figure = (
        f"{result['members']:,} members, {result['rows']:,} rows of {result['total']:,}, "
        f"{result['mb']:.0f} MB CSV (count {result['count_s']:.1f} s, log {result['log_s']:.1f} s, "
        f"stream {result['stream_s']:.1f} s), peak RSS {result['peak_mb']:.0f} MB"
    )
    row.met = (
        seconds <= EXTRACT_SECONDS
        and result["peak_mb"] <= EXTRACT_PEAK_MB
        and result["rows"] == result["members"]
    )
    if result["total"] < EXTRACT_MEMBERS:
        row.note = f"data set below {EXTRACT_MEMBERS:,} members: not a verdict on the target"
        row.met = None if row.met else False
    return row
