"""Rows per second of consentoffice.core.digests.row_digests for the first 200,000 rows of each
sealed table, and of the Python row_hash over the first 20,000 for comparison. Modes: sql (the
digest computed by PostgreSQL), sql+json (jsonb columns rendered by Python), python (row_hash).

    DATABASE_URL=postgres://… .venv/bin/python manage.py shell < bench_digests.py

Read only: the session's transactions are READ ONLY, so the script cannot write by mistake.
"""

import time

from django.db import DatabaseError, connection

from consentoffice.audit.seal import sources
from consentoffice.core.digests import _columns, row_digests
from consentoffice.core.history import _hashed

ROWS = 200_000
PYTHON_ROWS = 20_000

if connection.vendor == "postgresql":
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>10,.0f}" if rows and seconds else f"{'-':>10}"


print(f"{'table':<42} {'mode':<8} {'rows':>8} {'rows/s':>10} {'python/s':>10}")
for source in sources():
    columns, _ = _columns(source, connection)
    mode = "python" if columns is None else "sql+json" if any(c[2] == "jsonb" for c in columns) else "sql"
    start = time.perf_counter()
    try:
        rows = sum(1 for _ in row_digests(source, limit=ROWS))
    except DatabaseError as error:  # the database's schema differs from this checkout's models
        print(f"{source.table:<42} {mode:<8} {type(error).__name__}", flush=True)
        continue
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    qs = source.model._base_manager.order_by(source.pk)[:PYTHON_ROWS]
    python_rows = sum(1 for _ in _hashed(source, qs))
    python_seconds = time.perf_counter() - start
    print(
        f"{source.table:<42} {mode:<8} {rows:>8} {rate(rows, seconds)} {rate(python_rows, python_seconds)}",
        flush=True,
    )
