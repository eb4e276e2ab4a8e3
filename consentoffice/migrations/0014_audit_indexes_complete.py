"""The audit's composite indexes on every history table, after 0013 and its siblings in the other
apps took the single-column ones away (consentoffice.core.tracking.AuditedHistory).

Three history tables came after 0005 and never had them (enrolment codes, legal holds, marketing
extracts): ``/audit/?user=`` read them through the history-user index that is gone now. On SQLite an
altered field rebuilds its table with only the indexes Django knows, which drops the raw ones of
0005 and 0011; ``IF NOT EXISTS`` makes this a no-op where they survived (PostgreSQL).
"""

from importlib import import_module

from django.db import migrations

EARLIER = import_module("consentoffice.migrations.0005_audit_history_indexes").HISTORY_TABLES
LATER = {
    "consentoffice_historicalenrolmentcode": None,
    "members_historicallegalhold": "member_id",
    "members_historicalmarketingextract": None,
}
DATE_ORDERED = ("members_historicalpaymentrecord",)  # 0011


def _create(name: str, table: str, columns: tuple[str, ...]):
    quoted = ", ".join(f'"{column}"' for column in columns)
    return migrations.RunSQL(
        f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({quoted});',
        reverse_sql=migrations.RunSQL.noop,
    )


def _operations():
    operations = []
    for table, member_column in {**EARLIER, **LATER}.items():
        operations.append(
            _create(f"{table}_au_user", table, ("history_user_id", "history_date", "history_id"))
        )
        if member_column:
            operations.append(
                _create(f"{table}_au_member", table, (member_column, "history_date", "history_id"))
            )
    for table in DATE_ORDERED:
        operations.append(_create(f"{table}_au_date", table, ("history_date", "history_id")))
    return operations


class Migration(migrations.Migration):
    dependencies = [
        ("consentoffice", "0013_history_audit_indexes_only"),
        ("members", "0011_history_audit_indexes_only"),
        ("bureaus", "0006_history_audit_indexes_only"),
        ("requests", "0005_history_audit_indexes_only"),
    ]

    operations = _operations()
