"""The bureau batch's indexes (issue 18): a claim reads the pending queue through a pending index
— not the primary key, whose scan read three rows of other bureaus and statuses for every row it
claimed at a million members — and the lapse run finds dated records through
``submission_expiry_idx``, which holds no record without a lapse date (so claiming a running
contract's facts does not write it)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from bureaus.benchmarks import create_pending_submissions
from bureaus.models import Bureau, BureauKind, Submission, SubmissionStatus
from bureaus.services.batches import CLAIM_CHUNK, _claim_sql
from consentoffice.core.history import system_user
from tests.factories import ContractFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def submissions():
    """30,000 submissions over 50 contracts, the member bureaus taking turns by id, two in three
    already answered (accepted), one in a hundred with a lapse date in the past; the table vacuumed
    as autovacuum would."""
    for _ in range(50):
        ContractFactory()
    assert create_pending_submissions(30_000) == 30_000
    with connection.cursor() as cursor:
        bureaus = list(
            Bureau.objects.filter(kind=BureauKind.MEMBER).order_by("id").values_list("id", flat=True)
        )
        cursor.execute(
            "UPDATE bureaus_submission SET bureau_id = (%s::bigint[])[1 + id %% %s]", [bureaus, len(bureaus)]
        )
        cursor.execute("UPDATE bureaus_submission SET status = 'accepted' WHERE id % 7 <> 0")
        cursor.execute(
            "UPDATE bureaus_submission SET registered_until = %s WHERE id %% 100 = 1",
            [datetime.date(2020, 1, 1)],
        )
        cursor.execute("VACUUM (ANALYZE) bureaus_submission")


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_claim_reads_the_pending_queue_in_id_order(submissions):
    bureau = Bureau.objects.get(code="CIC")
    sql, history_params = _claim_sql(actor=system_user(), reason="test", at=timezone.now())
    params = [SubmissionStatus.BATCHED, 1, bureau.pk, SubmissionStatus.PENDING, 0, CLAIM_CHUNK]
    plan = _plan(sql, params + history_params)
    # Only the bureau's pending rows are read: at this size PostgreSQL takes a pending or the
    # bureau/status index; at a million members it took the primary key until
    # submission_pending_id_idx existed (BENCHMARKS.md), which this size does not reproduce.
    claim = plan.split("Tid Scan")[0]
    assert "bureaus_submission_pkey" not in claim and "Seq Scan" not in claim, plan


def test_the_lapse_run_reads_only_dated_records(submissions):
    expirable = [
        s for s in SubmissionStatus.values if s not in (SubmissionStatus.EXPIRED, SubmissionStatus.SUPERSEDED)
    ]
    rows = Submission.objects.filter(status__in=expirable, registered_until__lt=timezone.localdate())
    sql, params = rows.order_by("pk").query.sql_with_params()
    assert "submission_expiry_idx" in _plan(sql, params)
    assert rows.count() == 300


def test_counting_the_open_rejects_reads_only_rejected_records(submissions):
    """The home's alert and the metrics count the rejects of every bureau on each page: led by the
    bureau, the queue index was read whole for it (3,370 pages for no rejects at a million members)."""
    from django.test.utils import CaptureQueriesContext

    from bureaus.selectors import open_reject_count

    with connection.cursor() as cursor:
        cursor.execute("UPDATE bureaus_submission SET status = 'rejected' WHERE id % 10000 = 0")
        cursor.execute("VACUUM (ANALYZE) bureaus_submission")
    with CaptureQueriesContext(connection) as queries:
        assert open_reject_count() == 3
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query["sql"])
        plan = cursor.fetchone()[0][0]["Plan"]
    # 3 rejects among 30,000 records: the index's root and a leaf, and at most a table page each
    # (where the visibility map is not yet set), not the ~70 pages of the whole index.
    assert plan["Shared Hit Blocks"] + plan.get("Shared Read Blocks", 0) <= 8, plan
