"""A large, realistic data set for benchmarks (``manage.py seed_bulk``), written with COPY.

Services write one row at a time with its history row, checks and locks: right for real work,
far too slow for a million members. This loader writes the same shapes directly with PostgreSQL
``COPY`` (psycopg 3 ``cursor.copy``) and writes each history row in the same pass, so the data
set looks as if the services had made it: every row has a ``+`` history row naming a bulk
operator and a reason, tickets have one history row per status they went through.

What keeps the rows valid without the services:

- category ① values come from the same ``members.normalize`` functions (kana, names, phone and
  postal code are normalized when the pools are built), and ``search_kana``/``search_name`` are
  derived as ``Member.refresh_search_keys`` derives them;
- states are the model choices and the check constraints hold by construction (a formed
  contract has a contract date, an ended one an end date, a closed request an outcome, a refusal
  a ground, the approver is never the preparer);
- encrypted fields hold real Fernet ciphertext from ``consentoffice.core.crypto.encrypt``. Encrypting
  millions of values one by one costs minutes, so each encrypted field draws from a pool of
  ``ENCRYPTED_POOL_SIZE`` values encrypted once per run: the database holds ciphertext only, but
  two members may share the same (fictional) account or document number.

Foreign keys are guaranteed by construction. When the database user is a superuser the load sets
``session_replication_role = replica`` so that PostgreSQL skips the per-row foreign-key triggers,
and on large loads the non-unique indexes of the loaded tables are dropped first and built again
at the end (unique indexes and constraints stay in place and are checked row by row).

Bulk members have member numbers from ``2000000001`` (the demo seed uses ``1000000001``…), bulk
contracts ``K…`` numbers, bulk users ``bulk-…`` user names; that is how ``bulk_present`` knows a
data set is already there.
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
