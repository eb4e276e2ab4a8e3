# No index that another index of the table covers: each single-column index here led a composite
# or unique index of its table (tests/test_redundant_indexes.py; issue 18, storage).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0012_no_redundant_indexes'),
        ('requests', '0005_history_audit_indexes_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='correctionitem',
            name='ticket',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='correction_items', to='requests.ticket', verbose_name='受付票'),
        ),
        migrations.AlterField(
            model_name='deletionitem',
            name='ticket',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='deletion_items', to='requests.ticket', verbose_name='受付票'),
        ),
        migrations.AlterField(
            model_name='reminder',
            name='ticket',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='reminders', to='requests.ticket', verbose_name='受付票'),
        ),
        migrations.AlterField(
            model_name='ticket',
            name='assignee',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='assigned_tickets', to=settings.AUTH_USER_MODEL, verbose_name='担当者'),
        ),
        migrations.AlterField(
            model_name='ticket',
            name='member',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='tickets', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='ticketparticipant',
            name='ticket',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='participants', to='requests.ticket', verbose_name='受付票'),
        ),
    ]
