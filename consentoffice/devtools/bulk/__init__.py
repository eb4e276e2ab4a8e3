"""A large, realistic data set for benchmarks (``manage.py seed_bulk``), written with COPY.

Services write one row at a time with its history row, checks and locks: far too slow for a
million members. This package writes the same shapes, each with its history rows, directly with
PostgreSQL ``COPY``, so the data set looks as if the services had made it. Why the rows stay
valid and how the load avoids per-row costs: docs/postgresql.md, "The bulk seed".
"""

from consentoffice.devtools.bulk.contract_rows import CIC_NAME, PRODUCTS
from consentoffice.devtools.bulk.history import Chunk, Counters
from consentoffice.devtools.bulk.loader import LoadResult, bulk_present, load, reset, reset_tables
from consentoffice.devtools.bulk.member_rows import CONTRACT_STATUS_WEIGHTS
from consentoffice.devtools.bulk.postgres import Writer, build_indexes, droppable_indexes
from consentoffice.devtools.bulk.reference import (
    AFFILIATE_SHARED_ITEMS,
    BULK_AFFILIATES,
    BULK_OPERATORS,
    BULK_SUPERVISORS,
    Reference,
    ensure_reference_rows,
)
from consentoffice.devtools.bulk.rows import RowBuilder
from consentoffice.devtools.bulk.tables import (
    BIG_LOAD,
    CHUNK_MEMBERS,
    ENCRYPTED_POOL_SIZE,
    FIRST_BULK_MEMBER_NO,
    HISTORY_COLUMNS,
    HISTORY_TABLE,
    LAST_BULK_MEMBER_NO,
    LIVE_ONLY_COLUMNS,
    NO_HISTORY,
    PARTNER_EVERY,
    REASON,
    SEED,
    TABLES,
    TICKET_EVERY,
    WRITERS,
    all_tables,
    copy_columns,
    history_table,
    table_counts,
)
from consentoffice.devtools.bulk.ticket_rows import (
    OUTCOME_WEIGHTS,
    TICKET_FINAL_STATES,
    TICKET_KIND_WEIGHTS,
    TICKET_STATUS_PATH,
)
from consentoffice.devtools.bulk.values import (
    BANKS,
    BRANCHES,
    NULL,
    Pools,
    build_pools,
    esc,
    iso,
    month_starts_before,
)

__all__ = [
    "AFFILIATE_SHARED_ITEMS",
    "BANKS",
    "BIG_LOAD",
    "BRANCHES",
    "BULK_AFFILIATES",
    "BULK_OPERATORS",
    "BULK_SUPERVISORS",
    "CHUNK_MEMBERS",
    "CIC_NAME",
    "CONTRACT_STATUS_WEIGHTS",
    "Chunk",
    "Counters",
    "ENCRYPTED_POOL_SIZE",
    "FIRST_BULK_MEMBER_NO",
    "HISTORY_COLUMNS",
    "HISTORY_TABLE",
    "LAST_BULK_MEMBER_NO",
    "LIVE_ONLY_COLUMNS",
    "LoadResult",
    "NO_HISTORY",
    "NULL",
    "OUTCOME_WEIGHTS",
    "PARTNER_EVERY",
    "PRODUCTS",
    "Pools",
    "REASON",
    "Reference",
    "RowBuilder",
    "SEED",
    "TABLES",
    "TICKET_EVERY",
    "TICKET_FINAL_STATES",
    "TICKET_KIND_WEIGHTS",
    "TICKET_STATUS_PATH",
    "WRITERS",
    "Writer",
    "all_tables",
    "build_indexes",
    "build_pools",
    "bulk_present",
    "copy_columns",
    "droppable_indexes",
    "ensure_reference_rows",
    "esc",
    "history_table",
    "iso",
    "load",
    "month_starts_before",
    "reset",
    "reset_tables",
    "table_counts",
]
