# No index that another index of the table covers: each single-column index here led a composite
# or unique index of its table (tests/test_redundant_indexes.py; issue 18, storage).

from importlib import import_module

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('consentoffice', '0014_audit_indexes_complete'),
        ('members', '0012_no_redundant_indexes'),
        ('bureaus', '0008_no_redundant_indexes'),
        ('requests', '0006_no_redundant_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='enrolmentcode',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='対象者'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL, verbose_name='宛先'),
        ),
        # SQLite rebuilt the altered history tables without the raw audit indexes: again (no-op on
        # PostgreSQL).
        *import_module("consentoffice.migrations.0014_audit_indexes_complete")._operations(),
    ]
