"""The targets of issue 7, the row each case fills in, and the table the rows are printed as."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import connection

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
    # What a heavy job worked through (records, events, open tickets, members): its time per unit
    # is what the growth table (``bench_growth``) compares between data-set sizes.
    units: int | None = None
    # A page's 8 kB buffers touched by its SELECTs (``pages.buffers_read``): what it reads,
    # independent of the machine's noise.
    buffers: int | None = None

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
