"""The unfiltered audit page (``/audit/``) reads each history table newest first by (history_date,
history_id). simple-history's own index holds the date only, so rows written in one instant are
sorted before the first page can be cut: the monthly payment import writes a million history rows
with one timestamp, and ``/audit/`` took 1.1–1.4 s on the million-member data set sorting them.
An index on both columns gives the page from one index range, as 0005 does for ``?user=`` and
``?member=``. (The tables the bureau batch writes in bulk would tie too after a batch run; their
indexes are left out here, each costs the batch a write per record: BENCHMARKS.md, Load.)
"""

from django.db import migrations

TABLES = ("members_historicalpaymentrecord",)


class Migration(migrations.Migration):
    dependencies = [("consentoffice", "0010_alter_notification_kind")]

    operations = [
        migrations.RunSQL(
            f'CREATE INDEX IF NOT EXISTS "{table}_au_date" ON "{table}" ("history_date", "history_id");',
            reverse_sql=f'DROP INDEX IF EXISTS "{table}_au_date";',
        )
        for table in TABLES
    ]
