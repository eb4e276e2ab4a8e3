"""The open tickets' partial indexes (issue 18): the queues read open tickets in deadline order and
stop at a page, and the home page counts the user's and the unassigned tickets only — neither
sorts nor visits every open ticket of the center, so they cost the same at any size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consentoffice.devtools.bench.jobs import _add_open_tickets
from consentoffice.home import selectors as home_selectors
from requests import selectors
from tests.factories import MemberFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def open_tickets(operator, operator2):
    """20,000 request tickets over the last 20 days shared by the two operators, as the bench adds
    them, of which all but one in seven are closed, as at a real center (some open ones overdue, some due
    soon); the table vacuumed as autovacuum would."""
    for _ in range(30):
        MemberFactory()
    assert _add_open_tickets(20_000) == 20_000
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE requests_ticket SET status = 'closed', outcome = 'fulfilled', closed_at = received_at "
            "WHERE id % 7 <> 0"
        )
        cursor.execute("VACUUM (ANALYZE) requests_ticket")  # the visibility map, too


def _plan(sql: str, params=()) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _plan_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    return _plan(sql, params)


def test_a_queue_page_reads_open_tickets_in_deadline_order_and_stops(open_tickets, operator, supervisor):
    for scope, queue, index in (
        ("overdue", selectors.operator_queue(operator, scope="overdue"), "ticket_open_due_idx"),
        ("due_soon", selectors.operator_queue(operator, scope="due_soon"), "ticket_open_due_idx"),
        ("mine", selectors.operator_queue(operator, scope="mine"), "ticket_open_assignee_idx"),
        ("approval", selectors.approval_queue(supervisor), "ticket_approval_idx"),
    ):
        plan = _plan_of(queue[:15])
        assert index in plan, (scope, plan)
        # Nothing between the page's LIMIT and the index: no sort of every matching ticket, nor of
        # every ticket sharing the first deadline (an incremental sort on due_at alone).
        assert "Sort" not in plan.split(index)[0], (scope, plan)


def test_the_approval_queue_counts_from_its_index_alone(open_tickets, supervisor):
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.approval_queue(supervisor).count() > 0
    plan = _plan(ctx.captured_queries[0]["sql"])
    assert "Index Only Scan using ticket_approval_idx" in plan, plan


def test_the_home_counts_read_the_users_and_the_unassigned_tickets_only(open_tickets, operator):
    with CaptureQueriesContext(connection) as ctx:
        counts = home_selectors.ticket_counts(operator)
    assert 0 < counts["mine"] < 3000
    assert len(ctx.captured_queries) == 2
    for query in ctx.captured_queries:
        plan = _plan(query["sql"])
        assert "Index Only Scan using ticket_open_assignee_idx" in plan, plan
