"""The payment-record and bureau-submission history tables partitioned by month on PostgreSQL
(consentoffice.core.partitions; issue 18). Rewrites both tables once: on the million-member data set
about 19.6 M rows (BENCHMARKS.md, Partitions). SQLite keeps plain tables."""

from django.db import migrations


def partition(apps, schema_editor):
    from consentoffice.core.partitions import PARTITIONED, partition_table

    for table in PARTITIONED:
        partition_table(table, schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("consentoffice", "0016_canonical_jsonb"),
        ("members", "0012_no_redundant_indexes"),
        ("bureaus", "0008_no_redundant_indexes"),
    ]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop)]
