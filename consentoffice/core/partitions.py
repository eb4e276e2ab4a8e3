"""Monthly partitions of the largest history tables (PostgreSQL declarative partitioning; issue 18).

At a card issuer's scale the history of payment records and of bureau submissions grows by tens of
millions of rows a month. Each is a table partitioned by ``history_date`` into one partition per
month (Japan time), so a month's rows sit together: vacuuming, archiving or moving a month touches
that month only, and a date-bounded read prunes the others. The primary key is (history_id,
history_date) — PostgreSQL puts the partition key in every unique index; ids still come from one
sequence, so the audit seal's id order is unchanged. A ``DEFAULT`` partition takes any row dated
outside the months that exist (a back-dated correction years ago), so no write ever fails.

``roll_forward`` (beat: ``roll-history-partitions``, daily) keeps this month and the next
``MONTHS_AHEAD`` in place and gives the months of rows waiting in the default partition their own
(``seed_bulk`` calls it after a load). Only on PostgreSQL; SQLite keeps plain tables.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection as default_connection

PARTITIONED = ("members_historicalpaymentrecord", "bureaus_historicalsubmission")
MONTHS_AHEAD = 3
DATE = "history_date"


def _month(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _bound(month: date) -> str:
    """The first instant of the month in Japan time, as a literal PostgreSQL reads exactly."""
    start = datetime(month.year, month.month, 1, tzinfo=ZoneInfo(settings.TIME_ZONE))
    return start.isoformat()


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def is_partitioned(table: str, connection=default_connection) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table])
        return cursor.fetchone() is not None


def partitions(table: str, connection=default_connection) -> list[str]:
    """The table's partitions by name (the default one included)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]


def _create_month(cursor, table: str, month: date) -> bool:
    name = partition_name(table, month)
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    if cursor.fetchone()[0]:
        return False
    # Rows of that month already in the default partition move into the new one.
    cursor.execute(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
    cursor.execute(
        f'WITH moved AS (DELETE FROM "{table}_default" WHERE "{DATE}" >= %s AND "{DATE}" < %s RETURNING *) '
        f'INSERT INTO "{name}" SELECT * FROM moved',
        [_bound(month), _bound(_month(month, 1))],
    )
    cursor.execute(
        f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)',
        [_bound(month), _bound(_month(month, 1))],
    )
    return True


def roll_forward(*, today: date | None = None, connection=default_connection) -> list[str]:
    """Create the partitions of this month and the next ``MONTHS_AHEAD`` that are missing, for
    every partitioned table; returns the names created. Idempotent."""
    if connection.vendor != "postgresql":
        return []
    today = today or datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    created = []
    with connection.cursor() as cursor:
        for table in PARTITIONED:
            if not is_partitioned(table, connection):
                continue
            months = [_month(today, ahead) for ahead in range(MONTHS_AHEAD + 1)]
            # Months of rows that came in back-dated (or by a bulk load) get their own partition too.
            cursor.execute(
                f'SELECT DISTINCT date_trunc(\'month\', "{DATE}" AT TIME ZONE %s)::date FROM "{table}_default"',
                [settings.TIME_ZONE],
            )
            months += sorted(row[0] for row in cursor.fetchall())
            for month in months:
                if _create_month(cursor, table, month):
                    created.append(partition_name(table, month))
    return created


def partition_table(table: str, connection, *, today: date | None = None) -> None:
    """Turn ``table`` into a table partitioned by month with the same columns, rows, id sequence
    and indexes (migration consentoffice 0017). Rows dated from its oldest month on get a partition
    per month; the default partition starts empty."""
    if connection.vendor != "postgresql" or is_partitioned(table, connection):
        return
    old = f"{table}_unpartitioned"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x "
            "WHERE x.indrelid = to_regclass(%s) AND NOT x.indisprimary",
            [table],
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'history_id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute(f'SELECT min("{DATE}") FROM "{table}"')
        (oldest,) = cursor.fetchone()
        cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
        cursor.execute(
            f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY) '
            f'PARTITION BY RANGE ("{DATE}")'
        )
        cursor.execute(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT')
        today = today or datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
        first = _month(oldest.astimezone(ZoneInfo(settings.TIME_ZONE)).date()) if oldest else _month(today)
        month = first
        while month <= _month(today, MONTHS_AHEAD):
            _create_month(cursor, table, month)
            month = _month(month, 1)
        cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'history_id'), "
            f"GREATEST((SELECT last_value FROM {sequence}), 1))",
            [table],
        )
        cursor.execute(f'DROP TABLE "{old}"')
        # Keys and indexes built after the rows are in: sorted builds, full pages (an index filled row
        # by row through the partition routing was twice the size).
        cursor.execute(f'ALTER TABLE "{table}" ADD PRIMARY KEY (history_id, "{DATE}")')
        for definition in indexes:
            cursor.execute(
                definition.replace(f" ON public.{old} ", f" ON public.{table} ", 1).replace(
                    f' ON public."{old}" ', f' ON public."{table}" ', 1
                )
            )
