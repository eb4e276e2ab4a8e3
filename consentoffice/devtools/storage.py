"""What the database holds, per table and per member (BENCHMARKS.md, Storage; issue 18).

Sizes from PostgreSQL's catalogue (``pg_table_size`` without the indexes, ``pg_indexes_size``,
TOAST counted with the heap), rows from ``pg_class.reltuples`` (the estimate ANALYZE leaves: no
table is counted). Read-only, a few catalogue queries whatever the data set holds."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

MB = 1024 * 1024


@dataclass(frozen=True)
class TableSize:
    name: str
    rows: int
    heap: int
    indexes: int

    @property
    def total(self) -> int:
        return self.heap + self.indexes

    @property
    def is_history(self) -> bool:
        return "_historical" in self.name


@dataclass(frozen=True)
class IndexSize:
    name: str
    table: str
    size: int
    scans: int


def table_sizes() -> list[TableSize]:
    """Every table of the public schema, largest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH tree AS (  -- a partitioned table counts its partitions (consentoffice.core.partitions)
                SELECT c.oid AS root, c.relname, coalesce(p.relid, c.oid) AS part
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN LATERAL pg_partition_tree(c.oid) p ON c.relkind = 'p' AND p.isleaf
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            )
            SELECT t.relname, sum(GREATEST(r.reltuples, 0))::bigint,
                   sum(pg_table_size(t.part))::bigint, sum(pg_indexes_size(t.part))::bigint
            FROM tree t JOIN pg_class r ON r.oid = t.part
            GROUP BY t.root, t.relname
            ORDER BY sum(pg_total_relation_size(t.part)) DESC, t.relname
            """
        )
        return [TableSize(*row) for row in cursor.fetchall()]


def index_sizes(limit: int = 20) -> list[IndexSize]:
    """The largest indexes, with how often a query used each since the statistics were reset."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.indexrelname, s.relname, pg_relation_size(s.indexrelid), s.idx_scan
            FROM pg_stat_user_indexes s
            ORDER BY pg_relation_size(s.indexrelid) DESC, s.indexrelname
            LIMIT %s
            """,
            [limit],
        )
        return [IndexSize(*row) for row in cursor.fetchall()]


def report(*, tables: int = 25, indexes: int = 20) -> list[str]:
    """The storage table as printed lines."""
    sizes = table_sizes()
    members = next((s.rows for s in sizes if s.name == "members_member"), 0) or 1
    lines = [
        f"{'table':44} {'rows (est.)':>13} {'heap MB':>9} {'index MB':>9} {'total MB':>9} {'B/member':>9}",
        "-" * 98,
    ]
    for size in sizes[:tables]:
        lines.append(
            f"{size.name:44} {size.rows:>13,} {size.heap / MB:>9.1f} {size.indexes / MB:>9.1f} "
            f"{size.total / MB:>9.1f} {size.total / members:>9.0f}"
        )
    groups = (
        ("history tables", [s for s in sizes if s.is_history]),
        ("other tables", [s for s in sizes if not s.is_history]),
        ("all tables", sizes),
    )
    lines.append("-" * 98)
    for label, group in groups:
        heap, index = sum(s.heap for s in group), sum(s.indexes for s in group)
        rows = sum(s.rows for s in group)
        lines.append(
            f"{label:44} {rows:>13,} {heap / MB:>9.1f} {index / MB:>9.1f} {(heap + index) / MB:>9.1f} "
            f"{(heap + index) / members:>9.0f}"
        )
    total = sum(s.total for s in sizes)
    lines.append(f"members (est.): {members:,}; {total / members / 1024:.1f} KB per member")
    lines.append("")
    lines.append(f"{'index':56} {'table':36} {'MB':>8} {'scans':>10}")
    for index in index_sizes(indexes):
        lines.append(f"{index.name:56} {index.table:36} {index.size / MB:>8.1f} {index.scans:>10,}")
    return lines
