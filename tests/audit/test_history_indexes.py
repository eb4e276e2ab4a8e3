"""History tables keep only the indexes the audit reads (consentoffice.core.tracking.AuditedHistory):
the primary key, the object's id, the date (unless the audit's (date, id) index covers it) and the
composite audit indexes of consentoffice migrations 0005/0011 — no single-column index on a foreign
key, a formerly unique column or the history user (issue 18, storage)."""

from __future__ import annotations

import pytest
from django.db import connection

from consentoffice.audit.selectors import tracked_models
from consentoffice.core.partitions import is_partitioned

# History tables whose date is covered by the audit's (history_date, history_id) index.
DATE_COVERED = {"members_historicalpaymentrecord"}
# History tables without an index on the object's id: the audit's (member, date, id) index leads
# with it (members), or nothing reads one object's history by its id (payment records).
NO_OBJECT_INDEX = {"members_historicalmember", "members_historicalpaymentrecord"}


def index_columns(table: str) -> set[tuple[str, ...]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        tuple(c["columns"]) for c in constraints.values() if c["index"] or c["primary_key"] or c["unique"]
    }


@pytest.mark.django_db
@pytest.mark.parametrize("tracked", tracked_models(), ids=lambda t: t.label)
def test_a_history_table_has_only_the_indexes_the_audit_reads(tracked):
    table = tracked.history._meta.db_table
    single = {columns[0] for columns in index_columns(table) if len(columns) == 1}
    # A partitioned table's primary key holds the partition key too (consentoffice.core.partitions).
    partitioned = is_partitioned(table)
    expected = (set() if partitioned else {"history_id"}) | (set() if table in NO_OBJECT_INDEX else {"id"})
    expected |= set() if table in DATE_COVERED else {"history_date"}
    assert single == expected
    composite = {columns for columns in index_columns(table) if len(columns) > 1}
    assert not partitioned or ("history_id", "history_date") in composite
    assert ("history_user_id", "history_date", "history_id") in composite
    if tracked.member_path and tracked.member_path.count("__") == 0:
        column = tracked.history._meta.get_field(tracked.member_path.removesuffix("_id")).column
        assert (column, "history_date", "history_id") in composite
    if table in DATE_COVERED:
        assert ("history_date", "history_id") in composite
