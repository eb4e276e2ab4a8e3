"""``manage.py bench_audit``: time the audit pages on a large history (PostgreSQL).

``--generate N`` first adds N history rows (spread over a year, 20 actors and ``--members``
members, in the member, contract, contact-record and consent history tables) and N/5 access-log
rows, by raw ``INSERT … SELECT … generate_series`` from one template row per table; then every
page is rendered ``--runs`` times through its view and the median, the slowest run and the query
count are printed. Use a database of its own (``co_audit_big``): the rows stay.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consentoffice.audit import views as audit_views
from consentoffice.audit.selectors import tracked_models
from consentoffice.core import roles
from consentoffice.core.history import system_user
from members import services
from members.models import AccessLog, Consent, ContactRecord, Contract, Member

PREFIX = "bench-audit"
ACTORS = 20
CHUNK = 200_000
# history table -> share of the rows
SHARES = {Member: 0.35, Contract: 0.2, ContactRecord: 0.2, Consent: 0.25}


def _member_sql(count: int, start: int) -> str:
    return f"""
        INSERT INTO members_member (member_no, family_name, given_name, family_name_kana, given_name_kana,
            birth_date, gender, postal_code, prefecture, city, address_line, phone, email, occupation,
            employer_name, household, housing, transaction_purpose, status, search_kana, search_name,
            provision_stopped, created_at, updated_at)
        SELECT '8' || lpad(g::text, 9, '0'), '監査', '太郎' || g, 'カンサ', 'タロウ', DATE '1980-01-01',
            'male', '1000001', '東京都', '千代田区', '1-1', '090' || lpad(g::text, 8, '0'), '', '', '', '', '',
            '', 'active', 'カンサタロウ', '監査太郎' || g, false, now(), now()
        FROM generate_series({start + 1}, {start + count}) AS g
        ON CONFLICT DO NOTHING
    """


class Command(BaseCommand):
    help = "Time the audit list, the member timeline and the access log on a large history."

    def add_arguments(self, parser):
        parser.add_argument("--generate", type=int, default=0, help="history rows to add first")
        parser.add_argument("--members", type=int, default=20_000, help="members the rows belong to")
        parser.add_argument("--runs", type=int, default=5)

    def handle(self, *args, generate: int, members: int, runs: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("bench_audit needs PostgreSQL (generate_series).")
        actors = self._actors()
        if generate:
            self._generate(generate, members, actors)
        self._measure(actors, runs)

    # --- data ------------------------------------------------------------------------------

    def _actors(self) -> list:
        User = get_user_model()
        actors = []
        for i in range(ACTORS):
            user, _ = User.objects.get_or_create(username=f"{PREFIX}-op{i:02d}", defaults={"is_staff": True})
            actors.append(user)
        supervisor, created = User.objects.get_or_create(
            username=f"{PREFIX}-supervisor", defaults={"is_staff": True}
        )
        if created:
            supervisor.groups.add(Group.objects.get(name=roles.SUPERVISOR))
        return actors

    def _templates(self, system) -> dict:
        """One real object per table (through the services), whose history row is replicated."""
        member = services.create_member(
            actor=system,
            family_name="見本",
            given_name="花子",
            family_name_kana="ミホン",
            given_name_kana="ハナコ",
            birth_date=date(1980, 1, 1),
            postal_code="1000001",
            prefecture="東京都",
            city="千代田区",
            address_line="1-1",
            phone="0311112222",
        )
        contract = services.apply_for_contract(
            actor=system, member=member, kind="shopping", product_name="カード"
        )
        contact = services.add_contact_record(
            actor=system, member=member, channel="phone", summary="問い合わせ"
        )
        consent = services.set_consent(
            member, purpose="marketing_own", granted=True, actor=system, source="web"
        )
        return {Member: member, Contract: contract, ContactRecord: contact, Consent: consent}

    def _generate(self, total: int, member_count: int, actors: list) -> None:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM members_member WHERE member_no LIKE '8%%' AND family_name = '監査'"
            )
            existing = cursor.fetchone()[0]
            if existing < member_count:
                cursor.execute(_member_sql(member_count - existing, existing))
            cursor.execute(
                "SELECT min(id), max(id) FROM members_member WHERE member_no LIKE '8%%' AND family_name = '監査'"
            )
            low, high = cursor.fetchone()
        span = high - low + 1
        ids = "ARRAY[" + ",".join(str(a.pk) for a in actors) + "]"
        templates = self._templates(system_user())
        for model, share in SHARES.items():
            history = model.history.model
            table = history._meta.db_table
            template = history.objects.filter(**{model._meta.pk.attname: templates[model].pk}).latest()
            columns = [f.column for f in history._meta.concrete_fields if f.column != "history_id"]
            member_column = "id" if model is Member else "member_id"
            rows = int(total * share)
            for start in range(0, rows, CHUNK):
                count = min(CHUNK, rows - start)
                override = {
                    "history_date": f"now() - make_interval(secs => (g::float8 / {rows}) * 31536000 + (g %% 97))",
                    "history_user_id": f"({ids})[1 + g %% {len(actors)}]",
                    member_column: f"{low} + (g::bigint * 7919) %% {span}",
                    "history_type": "CASE WHEN g %% 10 = 0 THEN '+' ELSE '~' END",
                    "history_change_reason": "'一括投入 ' || (g %% 100)",
                }
                select = ", ".join(override.get(c, f'tpl."{c}"') for c in columns)
                names = ", ".join(f'"{c}"' for c in columns)
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        f'INSERT INTO "{table}" ({names}) SELECT {select} FROM "{table}" AS tpl, '
                        f"generate_series({start + 1}, {start + count}) AS g WHERE tpl.history_id = %s",
                        [template.history_id],
                    )
                self.stdout.write(f"  {table}: {start + count:,}/{rows:,}")
        access = total // 5
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO members_accesslog (member_id, user_id, action, at, ip_address, path, detail) "
                f"SELECT {low} + (g::bigint * 104729) %% {span}, ({ids})[1 + g %% {len(actors)}], "
                "(ARRAY['view','search','export','download'])[1 + g %% 4], "
                f"now() - make_interval(secs => (g::float8 / {access}) * 31536000), '127.0.0.1', '/admin/', '' "
                f"FROM generate_series(1, {access}) AS g",
                [],
            )
        with connection.cursor() as cursor:
            for model in [*SHARES, AccessLog]:
                table = model.history.model._meta.db_table if model is not AccessLog else "members_accesslog"
                cursor.execute(f'ANALYZE "{table}"')
        self.stdout.write(
            f"generated {total:,} history rows and {access:,} access-log rows in {time.monotonic() - started:.0f} s"
        )

    # --- measurement -----------------------------------------------------------------------

    def _measure(self, actors: list, runs: int) -> None:
        User = get_user_model()
        supervisor = User.objects.get(username=f"{PREFIX}-supervisor")
        with connection.cursor() as cursor:
            history_rows = 0
            for tracked in tracked_models():
                cursor.execute(f'SELECT count(*) FROM "{tracked.table}"')
                history_rows += cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM members_accesslog")
            access_rows = cursor.fetchone()[0]
        self.stdout.write(f"history rows: {history_rows:,}, access-log rows: {access_rows:,}")
        actor = actors[1]
        # A member with rows by ``actor``, so the combined filter has something to find.
        member_id = Member.history.filter(history_user=actor, member_no__startswith="8").values_list(
            "id", flat=True
        )[0]
        member = Member.objects.get(pk=member_id)
        history = reverse("audit:history")
        first = self._page(audit_views.HistoryListView, f"{history}?user={actor.pk}", supervisor)
        cases: list[tuple[str, type, str, dict]] = [
            ("list, no filter", audit_views.HistoryListView, history, {}),
            ("list ?user=", audit_views.HistoryListView, f"{history}?user={actor.pk}", {}),
            ("list ?user= page 2 (keyset)", audit_views.HistoryListView, f"{history}?{first}", {}),
            ("list ?member=", audit_views.HistoryListView, f"{history}?member={member.member_no}", {}),
            (
                "list ?user=&member=",
                audit_views.HistoryListView,
                f"{history}?user={actor.pk}&member={member.member_no}",
                {},
            ),
            (
                "list ?model=member&date range",
                audit_views.HistoryListView,
                f"{history}?model=members.member&date_from=2026-06-01&date_to=2026-06-30",
                {},
            ),
            (
                "member timeline",
                audit_views.TimelineView,
                reverse("audit:timeline", args=[member.member_no]),
                {"member_no": member.member_no},
            ),
            (
                "access log ?member=",
                audit_views.AccessLogListView,
                f"{reverse('audit:access')}?member={member.member_no}",
                {},
            ),
            (
                "access log ?user=",
                audit_views.AccessLogListView,
                f"{reverse('audit:access')}?user={actor.pk}",
                {},
            ),
        ]
        self.stdout.write(
            f"runs per page: {runs}; milliseconds: whole view rendered (median, max) and its SQL (median)"
        )
        self.stdout.write(f"{'page':34} {'median':>8} {'max':>8} {'sql':>8} {'queries':>8} {'rows':>5}")
        for name, view, url, kwargs in cases:
            timings, sql, queries, rows = [], [], 0, 0
            for _ in range(runs):
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    response = self._render(view, url, supervisor, kwargs)
                timings.append((time.perf_counter() - started) * 1000)
                queries, rows = len(captured), len(response.context_data["rows"])
                sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
            self.stdout.write(
                f"{name:34} {statistics.median(timings):8.1f} {max(timings):8.1f} {statistics.median(sql):8.1f}"
                f" {queries:8d} {rows:5d}"
            )

    def _render(self, view: type, url: str, user, kwargs: dict):
        request = RequestFactory().get(url)
        request.user = user
        response = view.as_view()(request, **kwargs)
        response.render()
        return response

    def _page(self, view: Callable, url: str, user) -> str:
        return self._render(view, url, user, {}).context_data["next_query"]
