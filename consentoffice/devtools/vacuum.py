"""``VACUUM (ANALYZE)`` before measuring (``manage.py bench``, the load test).

A PostgreSQL server with autovacuum off (this project's CI machine) keeps every dead row version a
rolled-back bench run leaves behind, and index-only scans fall back to the heap until a VACUUM
marks the pages all-visible again; figures taken over such tables measure the leftovers.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.db import connection


def vacuum_analyze(tables: Iterable[str] | None = None) -> float:
    """VACUUM (ANALYZE) ``tables`` (every table of the database when None); seconds taken.

    Runs outside any transaction (VACUUM cannot run inside one); nothing on other databases."""
    if connection.vendor != "postgresql":
        return 0.0
    if connection.in_atomic_block:
        raise RuntimeError("VACUUM cannot run inside a transaction")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if tables is None:
            cursor.execute("VACUUM (ANALYZE)")
        else:
            for table in tables:
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    return time.perf_counter() - started
