"""Indexes the audit pages need on the simple-history tables of other apps (consentoffice owns
the audit trail's reads, so its indexes live here rather than in those apps' migrations).

Per history table: (history_user_id, history_date, history_id) for ``/audit/?user=``, and (member,
history_date, history_id)
— or the column that leads to the member — for ``?member=`` and the member timeline, so each
table answers its part of a page from one index range, newest first (``history_id`` breaks ties
of rows written in the same instant, as bulk writes are, without a sort). Plain SQL with
``IF NOT EXISTS`` works on SQLite and PostgreSQL alike.
"""

from django.db import migrations

# table -> column through which a row names its member (None: the table has no member).
HISTORY_TABLES = {
    "bureaus_historicalbureau": None,
    "bureaus_historicalinquiry": "member_id",
    "bureaus_historicalsubmission": "member_id",
    "bureaus_historicalsubmissionbatch": None,
    "members_historicalaffiliate": None,
    "members_historicalconsent": "member_id",
    "members_historicalconsentversion": None,
    "members_historicalcontactrecord": "member_id",
    "members_historicalcontract": "member_id",
    "members_historicalcontractor": None,
    "members_historicalentrustment": "member_id",
    "members_historicalfinancialdeclaration": "member_id",
    "members_historicalidentitydocument": "member_id",
    "members_historicalmember": "id",
    "members_historicalonlineauthevent": "member_id",
    "members_historicalpartnersyncevent": "member_id",
    "members_historicalpaymentrecord": "contract_id",
    "members_historicalprovisionrecord": "member_id",
    "members_historicalpublicrecord": "member_id",
    "members_historicalpurpose": None,
    "requests_historicalcorrectionitem": "ticket_id",
    "requests_historicaldeletionitem": "ticket_id",
    "requests_historicaldisclosurepackage": "ticket_id",
    "requests_historicalticket": "member_id",
}


def _operations():
    operations = []
    for table, member_column in HISTORY_TABLES.items():
        indexes = [(f"{table}_au_user", "history_user_id")]
        if member_column:
            indexes.append((f"{table}_au_member", member_column))
        for name, column in indexes:
            operations.append(
                migrations.RunSQL(
                    f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}", "history_date", "history_id");',
                    reverse_sql=f'DROP INDEX IF EXISTS "{name}";',
                )
            )
    return operations


class Migration(migrations.Migration):
    dependencies = [
        ("consentoffice", "0004_audit_seal"),
        ("members", "0003_member_email_upper_index"),
        ("requests", "0002_ticket_closed_idx"),
        ("bureaus", "0003_inquiry_submission_batch"),
    ]

    operations = _operations()
