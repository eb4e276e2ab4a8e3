"""The page timings: each page fetched through ``django.test.Client``, its queries counted with
``CaptureQueriesContext``, the member list and searches also on the plain admin."""

from __future__ import annotations

import cProfile
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import jaconv
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from consentoffice.devtools.bench.client import Context, logged_in
from consentoffice.devtools.bench.report import (
    LIST_SPEEDUP,
    PAGE_MAX_QUERIES,
    PAGE_P95_MS,
    SEARCH_P95_MS,
    Row,
    percentile,
)
from members.models import Member

PAGE_CASES = (
    "member_list",
    "member_list_admin",
    "search_member_no",
    "search_phone",
    "search_kana",
    "search_name",
    "member_page",
    "workspace",
    "ticket_page",
    "operator_queue",
    "overdue_queue",
    "approval_queue",
    "audit_by_user",
    "audit_by_member",
    "member_timeline",
    "home",
    "home_supervisor",
    "dashboard",
)


def _wanted(only: set[str] | None) -> Callable[[str], bool]:
    return lambda name: not only or name in only


def url_exists(url: str) -> bool:
    try:
        resolve(url.split("?", 1)[0])
    except Resolver404:
        return False
    return True


def buffers_read(statements: list[str]) -> int | None:
    """The 8 kB pages PostgreSQL touched (shared buffers hit or read) running ``statements`` again
    under ``EXPLAIN (ANALYZE, BUFFERS)``; only SELECTs (the page's writes are not repeated).

    Unlike a time, this does not move with what else the machine is doing: it is what the growth
    table (``bench_growth``) compares to show that a page reads as much at a million members as at
    250,000. ``None`` off PostgreSQL."""
    if connection.vendor != "postgresql":
        return None
    total = 0
    with connection.cursor() as cursor:
        for sql in statements:
            # A union starts with its first branch's bracket: "(SELECT …) UNION ALL (SELECT …)".
            if not sql.lstrip(" (").upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
            top = cursor.fetchone()[0][0]  # psycopg decodes the JSON plan
            # The execution's buffers only: planning reads the catalogue as its caches happen to be.
            total += top["Plan"].get("Shared Hit Blocks", 0) + top["Plan"].get("Shared Read Blocks", 0)
    return total


def measure_page(client: Client, url: str, runs: int) -> tuple[list[float], int, list[str]]:
    """Times (ms) of ``runs`` GETs after one warm-up, and the query count and statements of the last."""
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    times = []
    queries = 0
    statements: list[str] = []
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
        statements = [query["sql"] for query in captured.captured_queries]
    return times, queries, statements


def page_row(name, label, client, url, runs, *, search=False, plain_url: str | None = None) -> Row:
    row = Row(name, label)
    if not url_exists(url):
        row.note = "n/a (URL not found)"
        return row
    times, row.queries, statements = measure_page(client, url, runs)
    row.median_ms, row.p95_ms = statistics.median(times), percentile(times, 95)
    row.buffers = buffers_read(statements)
    if row.buffers is not None:
        row.figure = f"{row.buffers:,} buffers read"
    limit = SEARCH_P95_MS if search else PAGE_P95_MS
    row.target = f"p95 ≤ {limit} ms, ≤ {PAGE_MAX_QUERIES} queries"
    row.met = row.p95_ms <= limit and row.queries <= PAGE_MAX_QUERIES
    if plain_url:
        plain_times, plain_queries, _statements = measure_page(client, plain_url, runs)
        row.plain_median_ms = statistics.median(plain_times)
        row.note = f"plain: p95 {percentile(plain_times, 95):.0f} ms, {plain_queries} queries"
        if name == "member_list":
            row.target += f", ≥ {LIST_SPEEDUP}× plain"
            row.met = row.met and (row.ratio or 0) >= LIST_SPEEDUP
    return row


def bench_ticket(ctx: Context):
    """The newest open ticket of the typical member, else the newest ticket (what an operator opens)."""
    from requests import rules
    from requests.models import Ticket

    tickets = Ticket.objects.order_by("-pk")
    return (
        tickets.filter(member=ctx.member, status__in=rules.OPEN_STATUSES).first()
        if ctx.member is not None
        else None
    ) or tickets.first()


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


@dataclass(frozen=True)
class PageSpec:
    """One page case: who fetches it (``op`` or ``sup``), its URL, and the plain admin's URL to
    compare with."""

    name: str
    label: str
    who: str
    url: str
    search: bool = False
    plain_url: str | None = None


def page_specs(ctx: Context, only: set[str] | None = None) -> list[PageSpec]:
    """The page cases wanted, in the table's order (``bench`` times them, ``--profile`` profiles them)."""
    wanted = _wanted(only)
    specs: list[PageSpec] = []

    def add(name, label, who, url, **extra):
        if wanted(name):
            specs.append(PageSpec(name, label, who, url, **extra))

    # The operators' member list and search (``/members/``), and the admin's change list of the same
    # model, each against the untuned admin.
    base, admin_list, plain = "/members/", "/admin/members/member/", "/bench-plain/members/member/"
    add("member_list", "会員一覧 member list", "sup", base, plain_url=plain)
    add("member_list_admin", "管理画面の会員一覧 admin list", "sup", admin_list, plain_url=plain)
    if ctx.member is not None:
        labels = {
            "search_member_no": "検索: 会員番号",
            "search_phone": "検索: 電話番号",
            "search_kana": "検索: フリガナ前方一致",
            "search_name": "検索: 氏名（漢字）",
        }
        for name, term in search_terms(ctx.member).items():
            q = f"?q={quote(term)}"
            add(name, labels[name], "sup", base + q, search=True, plain_url=plain + q)
    if ctx.heaviest is not None:
        add(
            "member_page", "会員ページ member page", "sup", f"/admin/members/member/{ctx.heaviest.pk}/change/"
        )
    if ctx.member is not None:
        add("workspace", "会員ワークスペース workspace", "op", f"/members/{ctx.member.member_no}/")
    if wanted("ticket_page") and (ticket := bench_ticket(ctx)) is not None:
        add("ticket_page", "受付票ページ ticket page", "op", f"/admin/requests/ticket/{ticket.pk}/change/")
    add("operator_queue", "担当キュー operators' queue", "op", "/admin/requests/ticket/queue/mine/")
    add("overdue_queue", "期限超過キュー overdue queue", "op", "/admin/requests/ticket/queue/overdue/")
    add("approval_queue", "承認待ち approval queue", "sup", "/admin/requests/ticket/queue/approval/")
    add("audit_by_user", "/audit/ 変更者で絞込", "sup", f"/audit/?user={ctx.operator.pk}")
    if ctx.heaviest is not None:
        add("audit_by_member", "/audit/ 会員で絞込", "sup", f"/audit/?member={ctx.heaviest.member_no}")
        add(
            "member_timeline", "会員タイムライン timeline", "sup", f"/audit/members/{ctx.heaviest.member_no}/"
        )
    # The operator home (業務ホーム, ``/``): my tickets, unassigned tickets, notifications; the
    # supervisors' home leads with the approvals waiting. Then the dashboard (センター状況).
    add("home", "業務ホーム operator home", "op", "/")
    add("home_supervisor", "業務ホーム supervisor home", "sup", "/")
    add("dashboard", "センター状況 dashboard", "sup", "/dashboard/")
    return specs


def case_pages(ctx: Context, only: set[str] | None, *, profile_dir: str = "") -> list[Row]:
    """Each page timed; with ``profile_dir``, each also profiled over as many more GETs
    (``profile_page``)."""
    clients = {"sup": logged_in(ctx.supervisor), "op": logged_in(ctx.operator)}
    rows = []
    for spec in page_specs(ctx, only):
        client = clients[spec.who]
        row = page_row(
            spec.name, spec.label, client, spec.url, ctx.runs, search=spec.search, plain_url=spec.plain_url
        )
        if profile_dir and row.median_ms is not None:
            row.note = (row.note + "; " if row.note else "") + profile_page(
                client, spec.url, ctx.runs, os.path.join(profile_dir, f"{spec.name}.prof")
            )
        rows.append(row)
    return rows


def profile_page(client: Client, url: str, runs: int, path: str) -> str:
    """``runs`` GETs of ``url`` under ``cProfile``, the statistics saved to ``path`` (read them with
    ``python -m pstats`` or snakeviz); returns where they went. Profiling slows the page down, so
    these GETs are not in the timings."""
    profiler = cProfile.Profile()
    for _ in range(runs):
        profiler.enable()
        response = client.get(url)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        profiler.disable()
    profiler.dump_stats(path)
    return f"profile: {path}"
