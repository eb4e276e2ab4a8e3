"""``manage.py bench``: performance figures of the product on the data set it finds.

Nothing here seeds data for good: every case runs inside a transaction that is rolled back (the
access-log rows a page view writes, the temporary tickets of the reminder run, the batch of the
bureau run), and files a case writes are removed afterwards.

Pages go through ``django.test.Client`` logged in as real role users (``seed_bulk``'s bulk users
when present, else any active user of the role), queries are counted with
``CaptureQueriesContext``. The member list and searches (the operators' list at ``/members/``, and
the admin's change list of members) are also measured on a plain, untuned
``ModelAdmin`` of ``Member`` registered on a throwaway ``AdminSite`` (``PLAIN_SITE`` below, mounted
under ``/bench-plain/`` only while the bench runs) and the ratio is printed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import jaconv
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import Resolver404, include, path, resolve
from django.utils import timezone

from consentoffice.core import roles
from members.models import Member

# --- the untuned admin the tuned one is compared with ---------------------------------------------

PLAIN_SITE = admin.AdminSite(name="bench_plain")


class PlainMemberAdmin(admin.ModelAdmin):
    """What ``admin.ModelAdmin`` gives out of the box, searching the same fields."""

    list_display = (
        "member_no",
        "family_name",
        "given_name",
        "family_name_kana",
        "phone",
        "prefecture",
        "status",
    )
    list_filter = ("status", "prefecture", "gender")
    search_fields = (
        "member_no",
        "phone",
        "family_name_kana",
        "given_name_kana",
        "family_name",
        "given_name",
        "email",
    )


PLAIN_SITE.register(Member, PlainMemberAdmin)


# The bench's URLconf: the project's URLs plus the plain admin under /bench-plain/.
urlpatterns = [path("bench-plain/", PLAIN_SITE.urls), path("", include("consentoffice.urls"))]
BENCH_URLCONF = __name__

# --- targets (issue 7) --------------------------------------------------------------------------

PAGE_P95_MS = 300
SEARCH_P95_MS = 150
PAGE_MAX_QUERIES = 20
LIST_SPEEDUP = 10
DISCLOSURE_MS = 2000
BUREAU_SECONDS = 60
BUREAU_PEAK_MB = 300
BUREAU_RECORDS = 1_000_000
PARTNER_EVENTS_PER_SECOND = 300
REMINDER_SECONDS = 10
REMINDER_OPEN_TICKETS = 100_000
EXTRACT_SECONDS = 30
EXTRACT_PEAK_MB = 300
EXTRACT_MEMBERS = 1_000_000


@dataclass
class Row:
    name: str
    label: str
    median_ms: float | None = None
    p95_ms: float | None = None
    queries: int | None = None
    plain_median_ms: float | None = None
    figure: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.plain_median_ms is None or not self.median_ms:
            return None
        return self.plain_median_ms / self.median_ms


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 20 runs is the 19th value)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Context:
    runs: int
    operator: object
    supervisor: object
    supervisor2: object
    member: Member | None
    heaviest: Member | None
    bureau_records: int = BUREAU_RECORDS
    sync_events: int = 2000
    reminder_tickets: int = REMINDER_OPEN_TICKETS


# --- helpers --------------------------------------------------------------------------------


def role_user(role: str, *, prefer: str = "", exclude: int | None = None):
    User = get_user_model()
    users = User.objects.filter(is_active=True, is_staff=True, groups__name=role).order_by("username")
    if exclude:
        users = users.exclude(pk=exclude)
    return (users.filter(username__startswith=prefer).first() if prefer else None) or users.first()


def heaviest_member() -> Member | None:
    """The member with the most contracts, then the most tickets (what a disclosure must gather)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT member_id FROM members_contract GROUP BY member_id ORDER BY COUNT(*) DESC, member_id LIMIT 1"
        )
        row = cursor.fetchone()
    return Member.objects.filter(pk=row[0]).first() if row else Member.objects.order_by("pk").first()


def typical_member() -> Member | None:
    """A member in the middle of the id range (not one a cache would have warm by chance)."""
    first = Member.objects.order_by("pk").values_list("pk", flat=True).first()
    last = Member.objects.order_by("-pk").values_list("pk", flat=True).first()
    if first is None:
        return None
    return Member.objects.filter(pk__gte=(first + last) // 2).order_by("pk").first()


def url_exists(url: str) -> bool:
    try:
        resolve(url.split("?", 1)[0])
    except Resolver404:
        return False
    return True


def measure_page(client: Client, url: str, runs: int) -> tuple[list[float], int]:
    """Times (ms) of ``runs`` GETs after one warm-up, and the query count of the last one."""
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        queries = len(captured.captured_queries)
    return times, queries


def page_row(name, label, client, url, runs, *, search=False, plain_url: str | None = None) -> Row:
    row = Row(name, label)
    if not url_exists(url):
        row.note = "n/a (URL not found)"
        return row
    times, row.queries = measure_page(client, url, runs)
    row.median_ms, row.p95_ms = statistics.median(times), percentile(times, 95)
    limit = SEARCH_P95_MS if search else PAGE_P95_MS
    row.target = f"p95 ≤ {limit} ms, ≤ {PAGE_MAX_QUERIES} queries"
    row.met = row.p95_ms <= limit and row.queries <= PAGE_MAX_QUERIES
    if plain_url:
        plain_times, plain_queries = measure_page(client, plain_url, runs)
        row.plain_median_ms = statistics.median(plain_times)
        row.note = f"plain: p95 {percentile(plain_times, 95):.0f} ms, {plain_queries} queries"
        if name == "member_list":
            row.target += f", ≥ {LIST_SPEEDUP}× plain"
            row.met = row.met and (row.ratio or 0) >= LIST_SPEEDUP
    return row


def logged_in(user) -> Client:
    """A client logged in as ``user``; a role that needs the second factor gets its session marked
    verified with the user's device (a bench device is added, inside the rolled-back transaction,
    when the user has none) — the state the code page leaves after a right code."""
    client = Client()
    client.force_login(user)
    from django_otp import DEVICE_ID_SESSION_KEY

    from consentoffice.accounts.twofactor import confirmed_device, create_confirmed_device

    device = confirmed_device(user) or create_confirmed_device(user, name="bench")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


# --- cases ----------------------------------------------------------------------------------


def search_terms(member: Member) -> dict[str, str]:
    """What an operator types: the number, the phone with hyphens, the start of the reading in
    hiragana, the family name in kanji."""
    from members.normalize import format_phone

    return {
        "search_member_no": member.member_no,
        "search_phone": format_phone(member.phone),
        "search_kana": jaconv.kata2hira(member.family_name_kana[:3]),
        "search_name": member.family_name,
    }


def case_pages(ctx: Context, only: set[str] | None) -> list[Row]:
    rows = []
    wanted = _wanted(only)
    sup = logged_in(ctx.supervisor)
    op = logged_in(ctx.operator)
    # The operators' member list and search (``/members/``), and the admin's change list of the same
    # model, each against the untuned admin.
    base, admin_list, plain = "/members/", "/admin/members/member/", "/bench-plain/members/member/"
    if wanted("member_list"):
        rows.append(page_row("member_list", "会員一覧 member list", sup, base, ctx.runs, plain_url=plain))
    if wanted("member_list_admin"):
        rows.append(
            page_row(
                "member_list_admin",
                "管理画面の会員一覧 admin list",
                sup,
                admin_list,
                ctx.runs,
                plain_url=plain,
            )
        )
    if ctx.member is not None:
        labels = {
            "search_member_no": "検索: 会員番号",
            "search_phone": "検索: 電話番号",
            "search_kana": "検索: フリガナ前方一致",
            "search_name": "検索: 氏名（漢字）",
        }
        from urllib.parse import quote

        for name, term in search_terms(ctx.member).items():
            if wanted(name):
                q = f"?q={quote(term)}"
                rows.append(
                    page_row(name, labels[name], sup, base + q, ctx.runs, search=True, plain_url=plain + q)
                )
    if wanted("member_page") and ctx.heaviest is not None:
        url = f"/admin/members/member/{ctx.heaviest.pk}/change/"
        rows.append(page_row("member_page", "会員ページ member page", sup, url, ctx.runs))
    if wanted("operator_queue"):
        rows.append(
            page_row(
                "operator_queue",
                "担当キュー operators' queue",
                op,
                "/admin/requests/ticket/queue/mine/",
                ctx.runs,
            )
        )
    if wanted("approval_queue"):
        rows.append(
            page_row(
                "approval_queue",
                "承認待ち approval queue",
                sup,
                "/admin/requests/ticket/queue/approval/",
                ctx.runs,
            )
        )
    if wanted("audit_by_user"):
        rows.append(
            page_row(
                "audit_by_user", "/audit/ 変更者で絞込", sup, f"/audit/?user={ctx.operator.pk}", ctx.runs
            )
        )
    if wanted("audit_by_member") and ctx.heaviest is not None:
        url = f"/audit/?member={ctx.heaviest.member_no}"
        rows.append(page_row("audit_by_member", "/audit/ 会員で絞込", sup, url, ctx.runs))
    if wanted("member_timeline") and ctx.heaviest is not None:
        url = f"/audit/members/{ctx.heaviest.member_no}/"
        rows.append(page_row("member_timeline", "会員タイムライン timeline", sup, url, ctx.runs))
    return rows


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


def _database_url() -> str:
    """The database this process uses (under pytest: the test database), for the child process."""
    from urllib.parse import quote

    db = connection.settings_dict
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _trim_pending(records: int) -> int:
    """Set pending member-bureau submissions beyond the first ``records`` aside (inside the
    caller's rolled-back transaction) so the batch holds exactly ``records``; returns how many
    are pending now."""
    from bureaus.models import BureauKind

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id FROM bureaus_submission s JOIN bureaus_bureau b ON b.id = s.bureau_id "
            "WHERE s.status = 'pending' AND b.kind = %s ORDER BY s.id OFFSET %s LIMIT 1",
            [BureauKind.MEMBER, records],
        )
        first_extra = cursor.fetchone()
        if first_extra:
            cursor.execute(
                "UPDATE bureaus_submission SET status = 'batched' WHERE status = 'pending' AND id >= %s",
                [first_extra[0]],
            )
        cursor.execute(
            "SELECT COUNT(*) FROM bureaus_submission s JOIN bureaus_bureau b ON b.id = s.bureau_id "
            "WHERE s.status = 'pending' AND b.kind = %s",
            [BureauKind.MEMBER],
        )
        return cursor.fetchone()[0]


def bureau_child(records: int) -> None:
    """Run in a child process: exactly ``records`` pending submissions, one ``build_batches``,
    rolled back; prints one JSON line. ``bureaus.benchmarks.measure_batch`` (the bureaus app's own
    measurement) tops a smaller data set up to ``records`` and resets the peak-memory mark first."""
    from django.core.files.storage import storages

    from bureaus import services
    from consentoffice.core.history import system_user

    try:
        from bureaus.benchmarks import measure_batch
    except ImportError:
        measure_batch = None
    baseline = _rss_mb()
    files: list[str] = []
    with transaction.atomic():
        pending = _trim_pending(records)
        if measure_batch is not None:
            measured = measure_batch(records)
            result = {
                "records": measured["records"],
                "seconds": measured["seconds"],
                "queries": measured["queries"],
                "peak_mb": measured["peak_mb"],
                "delta_mb": measured["peak_mb"] - baseline,
                "batches": measured["batches"],
                "created": measured.get("created", 0),
            }
        else:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                batches = services.build_batches(actor=system_user())
                seconds = time.perf_counter() - started
            files = [b.file_name for b in batches if getattr(b, "file_name", "")]
            result = {
                "records": pending,
                "seconds": seconds,
                "queries": len(captured.captured_queries),
                "peak_mb": _rss_mb(),
                "delta_mb": _rss_mb() - baseline,
                "batches": len(batches),
                "created": 0,
            }
        transaction.set_rollback(True)
    storage = storages["private"]
    for name in files:
        if storage.exists(name):
            storage.delete(name)
    print(json.dumps(result))


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
        "response_method, fee_amount, on_hold, hold_reason, held_seconds, version, assignee_id, member_id"
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


def _child_into(row: Row, call: str) -> dict | None:
    """Run a case's child (``_child``) and put its time and query count on ``row``; ``None``, with
    the row marked failed, when the child failed."""
    result, failure = _child(call)
    if failure:
        row.note, row.met = failure, False
        return None
    row.median_ms = row.p95_ms = result["seconds"] * 1000
    row.queries = result["queries"]
    return result


def _child(call: str) -> tuple[dict, str]:
    """Run ``consentoffice.devtools.bench.<call>`` in a fresh interpreter on this database; its last
    JSON line, or an error note."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "consentoffice.settings"),
        "DATABASE_URL": _database_url(),
    }
    code = f"import django; django.setup(); from consentoffice.devtools import bench; bench.{call}"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=1800,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {}, "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:200]
    return json.loads(lines[-1]), ""


def extract_child(purpose: str = "marketing_own", channel: str = "post") -> None:
    """Run in a child process: one whole extract as the download runs it, rolled back; prints one
    JSON line. The actor is a privacy officer (``seed_bulk``'s when present)."""
    from members import extracts

    actor = role_user(roles.PRIVACY_OFFICER, prefer="bulk-")
    if actor is None:
        raise RuntimeError("the extract needs an active staff user in the privacy_officer group")
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            members = extracts.count_extract(actor=actor, purpose=purpose, channel=channel)
            counted = time.perf_counter()
            extract, logged = extracts.start_extract(actor=actor, purpose=purpose, channel=channel)
            started_stream = time.perf_counter()
            size = 0
            for block in extracts.stream_extract(extract, actor=actor, logged=logged):
                size += len(block)
            finished = time.perf_counter()
        extract.refresh_from_db()
        result = {
            "members": members,
            "logged": logged,
            "rows": extract.count,
            "total": Member.objects.count(),
            "mb": size / 1024 / 1024,
            "seconds": finished - started,
            "count_s": counted - started,
            "log_s": started_stream - counted,
            "stream_s": finished - started_stream,
            "queries": len(captured.captured_queries),
            "peak_mb": _rss_mb(),
        }
        transaction.set_rollback(True)
    print(json.dumps(result))


# --- the run --------------------------------------------------------------------------------

PAGE_CASES = (
    "member_list",
    "member_list_admin",
    "search_member_no",
    "search_phone",
    "search_kana",
    "search_name",
    "member_page",
    "operator_queue",
    "approval_queue",
    "audit_by_user",
    "audit_by_member",
    "member_timeline",
)
HEAVY_CASES = ("disclosure", "bureau_batch", "partner_sync", "reminders", "marketing_extract")
ALL_CASES = PAGE_CASES + HEAVY_CASES


def _wanted(only: set[str] | None) -> Callable[[str], bool]:
    return lambda name: not only or name in only


def run(
    *,
    runs: int = 10,
    only: set[str] | None = None,
    echo: Callable[[str], None] = print,
    bureau_records: int = BUREAU_RECORDS,
    sync_events: int = 2000,
    reminder_tickets: int = REMINDER_OPEN_TICKETS,
    on_row: Callable[[Row], None] | None = None,
) -> list[Row]:
    if connection.vendor != "postgresql":
        echo("note: not PostgreSQL — figures are not comparable with the targets")
    operator = role_user(roles.OPERATOR, prefer="bulk-")
    supervisor = role_user(roles.SUPERVISOR, prefer="bulk-")
    if operator is None or supervisor is None:
        raise RuntimeError("the bench needs an active staff user in the operator and supervisor groups")
    ctx = Context(
        runs=runs,
        operator=operator,
        supervisor=supervisor,
        supervisor2=role_user(roles.SUPERVISOR, exclude=supervisor.pk),
        member=typical_member(),
        heaviest=heaviest_member(),
        bureau_records=bureau_records,
        sync_events=sync_events,
        reminder_tickets=reminder_tickets,
    )
    wanted = _wanted(only)
    rows: list[Row] = []
    with override_settings(ROOT_URLCONF=BENCH_URLCONF, ALLOWED_HOSTS=["testserver", "localhost"]):
        from django.urls import clear_url_caches

        clear_url_caches()
        try:
            if any(wanted(n) for n in PAGE_CASES):
                with transaction.atomic():
                    rows += case_pages(ctx, only)
                    transaction.set_rollback(True)
                for row in rows:
                    (on_row or (lambda r: None))(row)
        finally:
            clear_url_caches()
    for name, case in (
        ("disclosure", case_disclosure),
        ("bureau_batch", case_bureau_batch),
        ("partner_sync", case_partner_sync),
        ("reminders", case_reminders),
        ("marketing_extract", case_marketing_extract),
    ):
        if wanted(name):
            try:
                row = case(ctx)
            except Exception as exc:  # one failing case does not hide the others' figures
                row = Row(name, name, met=False, note=f"failed: {type(exc).__name__}: {exc}"[:200])
            rows.append(row)
            (on_row or (lambda r: None))(row)
    return rows


def data_set_summary() -> dict[str, int]:
    """Estimated rows of the main tables (pg_class.reltuples: no full counts)."""
    tables = (
        "members_member",
        "members_contract",
        "members_paymentrecord",
        "members_consent",
        "requests_ticket",
        "bureaus_submission",
        "members_historicalpaymentrecord",
    )
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, GREATEST(reltuples, 0)::bigint FROM pg_class WHERE relname = ANY(%s)",
            [list(tables)],
        )
        return dict(cursor.fetchall())


HEADER = (
    f"{'case':<18} {'median ms':>11} {'p95 ms':>11} {'queries':>8} {'plain ms':>10} {'ratio':>7}  "
    f"{'met':<4} figure / note"
)


def format_row(row: Row) -> str:
    def ms(value):
        return "-" if value is None else f"{value:,.1f}"

    ratio = "-" if row.ratio is None else f"{row.ratio:,.1f}x"
    met = "n/a" if row.met is None else ("yes" if row.met else "NO")
    queries = "-" if row.queries is None else str(row.queries)
    extra = "; ".join(part for part in (row.figure, row.note) if part)
    return (
        f"{row.name:<18} {ms(row.median_ms):>11} {ms(row.p95_ms):>11} {queries:>8} "
        f"{ms(row.plain_median_ms):>10} {ratio:>7}  {met:<4} {extra}"
    )


def format_table(rows: list[Row]) -> list[str]:
    return [HEADER, "-" * len(HEADER), *(format_row(row) for row in rows)]
