"""The audit lists' union compiled once per shape of filter, the ids put in its marked places, and
on PostgreSQL run as a prepared statement (``core.queries.Statement``).

A stale statement would show one user's or one member's trail under another's filter: every test
here changes only the id between two pages and checks each page's own rows."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consentoffice.audit import selectors
from consentoffice.core.queries import Statement, StatementCache
from members import models as m
from members.services import record_access
from tests.audit.conftest import at, track
from tests.factories import ContractFactory, MemberFactory


@pytest.fixture(autouse=True)
def fresh_statements():
    selectors._statements.clear()
    yield
    selectors._statements.clear()


@pytest.fixture
def built(monkeypatch):
    """How many history branches were built (a statement compiled from scratch builds each)."""
    calls = []
    real = selectors._history_branch

    def counting(tracked, qs):
        calls.append(tracked.label)
        return real(tracked, qs)

    monkeypatch.setattr(selectors, "_history_branch", counting)
    return calls


@pytest.fixture
def trail(db, operator, operator2):
    alice, bob = MemberFactory(), MemberFactory()
    contract = ContractFactory(member=bob)
    alice.city = "港区"
    track(alice, user=operator, reason="住所変更の申出", when=at(3))
    bob.city = "品川区"
    track(bob, user=operator2, reason="転居の届出", when=at(2))
    contract.credit_limit = 700000
    track(contract, user=operator2, reason="増額審査", when=at(1))
    return {"alice": alice, "bob": bob, "contract": contract}


def rows(client, **params):
    response = client.get(f"/audit/?{urlencode(params)}")
    assert response.status_code == 200
    return response.context["rows"]


def test_a_second_user_reuses_the_statement_and_sees_only_their_own_changes(
    client, supervisor, operator, operator2, trail, built
):
    client.force_login(supervisor)
    first = rows(client, user=operator.pk)
    compiled = len(built)
    second = rows(client, user=operator2.pk)
    assert compiled == len(selectors.tracked_models())
    assert len(built) == compiled, "the second user's page compiled the union again"
    assert {r.reason for r in first} == {"住所変更の申出"}
    assert {r.reason for r in second} == {"転居の届出", "増額審査"}
    assert {r.user_id for r in second} == {operator2.pk}


def test_a_second_member_reuses_the_statement_and_sees_only_their_own_trail(client, supervisor, trail, built):
    client.force_login(supervisor)
    alice, bob = trail["alice"], trail["bob"]
    first = rows(client, member=alice.member_no)
    compiled = len(built)
    second = rows(client, member=bob.member_no)
    assert len(built) == compiled
    assert {r.member_no for r in first} == {alice.member_no}
    assert {r.member_no for r in second} == {bob.member_no}
    assert {r.label for r in second} == {"members.member", "members.contract"}


def test_other_filter_values_make_another_statement(client, supervisor, operator2, trail, built):
    client.force_login(supervisor)
    assert {r.reason for r in rows(client, user=operator2.pk, reason="増額")} == {"増額審査"}
    compiled = len(built)
    assert {r.reason for r in rows(client, user=operator2.pk, reason="転居")} == {"転居の届出"}
    assert len(built) == 2 * compiled
    day = at(2).date().isoformat()
    assert {r.reason for r in rows(client, date_from=day, date_to=day)} == {"転居の届出"}


def test_the_timeline_reuses_its_statement_for_another_member(db, operator, trail, built):
    alice, bob = trail["alice"], trail["bob"]
    record_access(user=operator, action=m.AccessAction.VIEW, member=bob, detail="workspace")
    first = selectors.timeline_page(alice)
    compiled = len(built)
    second = selectors.timeline_page(bob)
    assert len(built) == compiled
    assert {r.member_id for r in first.rows} == {alice.pk}
    assert {r.member_id for r in second.rows} == {bob.pk}
    assert any(r.is_access for r in second.rows) and not any(r.is_access for r in first.rows)


def test_a_later_page_is_read_after_its_own_cursor(db, operator2, trail):
    page = selectors.history_page(branches=selectors.tracked_models(), user_id=operator2.pk, limit=1)
    assert [r.reason for r in page.rows] == ["増額審査"]
    after = selectors.history_page(
        branches=selectors.tracked_models(), user_id=operator2.pk, cursor=page.next_cursor, limit=1
    )
    assert [r.reason for r in after.rows] == ["転居の届出"]


def test_rows_come_back_converted_as_the_queryset_would(db, operator, trail):
    (row,) = selectors.history_page(branches=selectors.tracked_models(), user_id=operator.pk).rows
    assert row.at == at(3)
    assert row.at.tzinfo is not None
    assert row.member_id == trail["alice"].pk and isinstance(row.member_id, int)


def test_a_mark_missing_from_the_statement_is_refused(db):
    rows = m.Member.objects.filter(pk=selectors.MEMBER_MARK).values_list("pk")
    with pytest.raises(ValueError, match="user"):
        Statement.compile(rows, {selectors.MEMBER_MARK: "member", selectors.USER_MARK: "user"})


def test_the_cache_keeps_the_most_recently_used_statements():
    cache = StatementCache(size=2)
    made = []

    def build(name):
        return lambda: made.append(name) or name

    for name in ("a", "b", "a", "c", "a", "b"):
        cache.get((name,), build(name))
    # "a" was used again before "c" came, so "b" went; "b" was then made again.
    assert made == ["a", "b", "c", "b"]


def test_a_list_that_reads_no_table_is_kept_as_such(db, trail):
    """The member filter on a table that names no member reads nothing: no statement, no query,
    and the cache remembers it rather than asking again."""
    bureau = [selectors.tracked_by_label("bureaus.bureau")]
    with CaptureQueriesContext(connection) as queries:
        for member in (trail["alice"], trail["bob"]):
            assert selectors.history_page(branches=bureau, member_id=member.pk).rows == []
    assert len(queries) == 0
    cache, made = StatementCache(), []
    for _ in range(3):
        assert cache.get(("none",), lambda: made.append(1)) is None
    assert made == [1]


@pytest.mark.postgres
def test_on_postgresql_the_union_is_prepared_once_per_connection(
    client, supervisor, operator, operator2, trail
):
    client.force_login(supervisor)
    for user in (operator, operator2, operator, operator2):
        rows(client, user=user.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(generic_plans + custom_plans) FROM pg_prepared_statements "
            "WHERE statement LIKE %s",
            ['%"history_user_id" = $%'],
        )
        prepared, runs = cursor.fetchone()
    assert prepared == 1
    assert runs == 4


def test_the_query_log_holds_the_union_with_its_values(db, operator, trail):
    """Django's query log (debug pages, the bench's buffer counts, the query-count tests) shows
    the prepared union as it ran, the user's id in place of the mark."""
    with CaptureQueriesContext(connection) as queries:
        selectors.history_page(branches=selectors.tracked_models(), user_id=operator.pk)
    (union,) = [q["sql"] for q in queries.captured_queries if "UNION ALL" in (q["sql"] or "")]
    assert str(operator.pk) in union
    assert str(selectors.USER_MARK) not in union


@pytest.mark.postgres
def test_the_bench_counts_the_buffers_of_the_union_too(db, operator, trail):
    """``bench``'s buffer count reads every SELECT of a page, the union (which starts with a
    bracket) included: the audit rows of the growth table count what the union reads."""
    from consentoffice.devtools.bench.pages import buffers_read

    with CaptureQueriesContext(connection) as queries:
        selectors.history_page(branches=selectors.tracked_models(), user_id=operator.pk)
    (union,) = [q["sql"] for q in queries.captured_queries if "UNION ALL" in (q["sql"] or "")]
    assert union.lstrip().startswith("(")
    assert buffers_read([union]) > 0
