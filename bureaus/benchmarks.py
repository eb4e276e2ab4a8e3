"""Figures for ``manage.py bench``: a bureau batch of many pending submissions (issue 7).

``measure_batch(n)`` tops the pending submissions up to ``n`` from the contracts it finds, builds
the batch files with ``services.build_batches`` and reports the time and the process's peak
memory; everything it wrote (submissions, batches, history, provision records, files) is rolled
back or deleted afterwards, so it can run on a production-sized data set without changing it.
PostgreSQL only (the set-up is one INSERT … SELECT over generate_series).

    python manage.py shell -c "from bureaus.benchmarks import measure_batch; print(measure_batch(1_000_000))"
"""

from __future__ import annotations

import gc
import resource
import time
from typing import Any

from django.core.files.storage import storages
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bureaus import fileformat, services
from bureaus.models import Bureau, BureauKind, Submission, SubmissionStatus
from consentoffice.core.history import system_user
from members.models import Contract, Member

# Synthetic payment facts are dated from here on, one month per round over the contracts, so
# they never meet a real registration in the one-live-fact constraint.
FIRST_SYNTHETIC_MONTH = "1990-01-01"


def create_pending_submissions(n: int, *, bureau: Bureau | None = None) -> int:
    """Insert up to ``n`` pending monthly payment submissions for ``bureau`` (CIC by default) in
    one set-based statement: the contracts found (formed ones first, by id) are cycled, each
    round one month later, with a payload snapshot of the member and the contract as
    ``services.snapshots.build_payload`` makes it. Benchmark data: no history rows. Returns the count."""
    if n <= 0:
        return 0
    bureau = bureau or Bureau.objects.get(code="CIC")
    member, contract, submission = Member._meta.db_table, Contract._meta.db_table, Submission._meta.db_table
    identity = ", ".join(f"'{name}', m.{name}" for name in fileformat.IDENTITY_FIELDS)
    sql = f"""
        WITH c AS (
            SELECT row_number() OVER (ORDER BY c.id) - 1 AS rn, c.id, c.member_id, c.contract_no, c.kind,
                   c.product_name, c.applied_on, c.contracted_on, c.ended_on, c.credit_limit,
                   c.installments, c.status, m.member_no, jsonb_build_object({identity}) AS identity
            FROM (SELECT * FROM {contract} ORDER BY (contracted_on IS NULL), id LIMIT %(n)s) c
            JOIN {member} m ON m.id = c.member_id
        ), k AS (SELECT count(*) AS total FROM c)
        INSERT INTO {submission} (
            record_type, event_date, registered_until, payload, status, response_code,
            response_message, answered_at, created_at, bureau_id, contract_id, inquiry_id,
            member_id, original_id, batch_id)
        SELECT 'payment', d.month, NULL,
               jsonb_build_object(
                   'member_no', c.member_no,
                   'identity', c.identity,
                   'contract', jsonb_build_object(
                       'contract_no', c.contract_no, 'kind', c.kind, 'product_name', c.product_name,
                       'applied_on', c.applied_on, 'contracted_on', c.contracted_on,
                       'ended_on', c.ended_on, 'credit_limit', c.credit_limit,
                       'installments', c.installments, 'status', c.status),
                   'payment', jsonb_build_object(
                       'month', d.month, 'status_code', (ARRAY['$', '$', '$', 'P', 'A', '-'])[1 + g %% 6],
                       'billed_amount', 30000 + g %% 7 * 1000, 'paid_amount', 30000 - g %% 6 / 5 * 30000,
                       'balance', 100000 + g %% 11 * 10000, 'days_overdue', g %% 6 / 4 * 20)),
               %(pending)s, '', '', NULL, now(), %(bureau)s, c.id, NULL, c.member_id, NULL, NULL
        FROM generate_series(0, %(n)s - 1) g
        CROSS JOIN k
        JOIN c ON c.rn = g %% k.total
        CROSS JOIN LATERAL (
            SELECT (DATE %(first)s + make_interval(months => (g / k.total)::int))::date AS month
        ) d
        ON CONFLICT DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "n": n,
                "pending": SubmissionStatus.PENDING,
                "bureau": bureau.pk,
                "first": FIRST_SYNTHETIC_MONTH,
            },
        )
        return cursor.rowcount


def _reset_peak_rss() -> bool:
    """Linux lets a process reset its own peak resident set size (VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_batch(n: int = 1_000_000, *, actor=None) -> dict[str, Any]:
    """Build the bureau batch files of at least ``n`` pending submissions and roll it all back.

    Returns ``seconds`` (``build_batches`` alone, not the set-up), ``peak_mb`` (the process's
    peak resident memory while it ran; since the start of the process where Linux cannot reset
    it, see ``peak_reset``), ``records`` (data records written), ``queries``, ``created`` (pending
    submissions added for the measurement) and ``batches``.
    """
    actor = actor or system_user()
    storage = storages[services.PRIVATE_STORAGE]
    files: list[str] = []
    try:
        with transaction.atomic():
            pending = Submission.objects.filter(
                status=SubmissionStatus.PENDING, bureau__kind=BureauKind.MEMBER
            ).count()
            created = create_pending_submissions(n - pending)
            gc.collect()
            peak_reset = _reset_peak_rss()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                batches = services.build_batches(actor=actor)
                seconds = time.perf_counter() - started
            peak_mb = _peak_rss_mb()
            files = [b.file_name for b in batches if b.file_name]
            transaction.set_rollback(True)
    finally:
        for name in files:
            storage.delete(name)
    return {
        "seconds": round(seconds, 2),
        "peak_mb": round(peak_mb, 1),
        "peak_reset": peak_reset,
        "records": sum(b.record_count for b in batches),
        "queries": len(queries),
        "created": created,
        "batches": len(batches),
    }
