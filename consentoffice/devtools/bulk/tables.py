"""What a bulk load writes: its sizes and numbers, the tables and columns in foreign-key order,
and the history table of each. Bulk members are numbered from ``2000000001`` (the demo seed
uses ``1000000001``…), which is how ``bulk_present`` knows a data set is already there."""

from __future__ import annotations

from collections.abc import Iterator

from django.db import connection

from members.models import CATEGORY_1_FIELDS

FIRST_BULK_MEMBER_NO = 2_000_000_001
LAST_BULK_MEMBER_NO = 2_999_999_999
CHUNK_MEMBERS = 5_000
ENCRYPTED_POOL_SIZE = 2_048
TICKET_EVERY = 33  # about 3 % of members have a ticket
PARTNER_EVERY = 10  # a tenth of members hold a partner card
BIG_LOAD = 50_000  # from this many members on, indexes are dropped and built again
WRITERS = 2  # COPY sessions taking turns
REASON = "seed_bulk: ベンチマーク用一括投入"
SEED = 7

# The tables loaded, in foreign-key order; each with the columns written (history tables take the
# same columns plus HISTORY_COLUMNS, except where the model excludes some from its history).
TABLES: dict[str, tuple[str, ...]] = {
    "members_member": (
        "id",
        "member_no",
        *CATEGORY_1_FIELDS,
        "status",
        "provision_stopped",
        "created_at",
    ),
    "members_contract": (
        "id",
        "contract_no",
        "kind",
        "product_name",
        "applied_on",
        "contracted_on",
        "credit_limit",
        "installments",
        "settlement_account",
        "status",
        "ended_on",
        "decline_reason",
        "affiliate_id",
        "consent_version_id",
        "member_id",
    ),
    "members_paymentrecord": (
        "id",
        "month",
        "billed_amount",
        "paid_amount",
        "balance",
        "status_code",
        "days_overdue",
        "contract_id",
    ),
    "members_consent": ("id", "granted", "recorded_at", "source", "version_id", "member_id", "purpose_id"),
    "members_financialdeclaration": (
        "id",
        "declared_on",
        "annual_income",
        "assets",
        "debts",
        "note",
        "member_id",
    ),
    "members_identitydocument": (
        "id",
        "kind",
        "number",
        "verified_by_id",
        "verified_at",
        "note",
        "member_id",
    ),
    "members_contactrecord": (
        "id",
        "at",
        "channel",
        "inbound",
        "summary",
        "recording_ref",
        "recorded_by_id",
        "member_id",
    ),
    "members_provisionrecord": (
        "id",
        "recipient_kind",
        "recipient",
        "items",
        "provided_on",
        "basis",
        "consent_recorded",
        "kept_until",
        "reference",
        "member_id",
    ),
    "members_partnersyncevent": (
        "id",
        "event_id",
        "direction",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "occurred_at",
        "sent_at",
        "affiliate_id",
        "member_id",
    ),
    "bureaus_submission": (
        "id",
        "record_type",
        "event_date",
        "registered_until",
        "status",
        "response_code",
        "response_message",
        "answered_at",
        "created_at",
        "bureau_id",
        "contract_id",
        "inquiry_id",
        "member_id",
        "original_id",
        "batch_id",
    ),
    "requests_ticket": (
        "id",
        "number",
        "kind",
        "channel",
        "summary",
        "requester_type",
        "agent_name",
        "agent_document_issued_on",
        "agent_verified",
        "identity_method",
        "identity_documents_seen",
        "identity_verified_at",
        "received_at",
        "due_at",
        "status",
        "outcome",
        "refusal_ground",
        "outcome_reason",
        "sent_back_reason",
        "approved_at",
        "closed_at",
        "response_method",
        "fee_amount",
        "fee_paid_on",
        "on_hold",
        "hold_reason",
        "hold_started_at",
        "held_seconds",
        "escalated_at",
        "version",
        "approver_id",
        "assignee_id",
        "identity_verified_by_id",
        "member_id",
        "prepared_by_id",
    ),
    "members_accesslog": ("id", "action", "at", "ip_address", "path", "detail", "member_id", "user_id"),
}
# Columns of the live table that the history table does not keep (``AuditedHistory(excluded_fields=…)``).
LIVE_ONLY_COLUMNS = {
    "members_member": ("search_kana", "search_name", "updated_at"),
    "bureaus_submission": ("payload",),
}
HISTORY_COLUMNS = ("history_id", "history_date", "history_change_reason", "history_type", "history_user_id")
NO_HISTORY = {"members_accesslog"}


def history_table(table: str) -> str:
    app, model = table.split("_", 1)
    return f"{app}_historical{model}"


HISTORY_TABLE = {table: history_table(table) for table in TABLES}


def all_tables() -> list[str]:
    tables = []
    for table in TABLES:
        tables.append(table)
        if table not in NO_HISTORY:
            tables.append(history_table(table))
    return tables


def copy_columns() -> dict[str, tuple[str, ...]]:
    columns: dict[str, tuple[str, ...]] = {}
    for table, cols in TABLES.items():
        columns[table] = cols + LIVE_ONLY_COLUMNS.get(table, ())
        if table not in NO_HISTORY:
            columns[history_table(table)] = cols + HISTORY_COLUMNS
    return columns


def table_counts(tables: Iterator[str] | None = None) -> dict[str, int]:
    """Rows per loaded table (exact counts: for reports, not for pages)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in tables or all_tables():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts
