# No index that another index of the table covers: each single-column index here led a composite
# or unique index of its table (tests/test_redundant_indexes.py; issue 18, storage).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0011_history_audit_indexes_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='accesslog',
            name='member',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='access_logs', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='accesslog',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='利用者'),
        ),
        migrations.AlterField(
            model_name='consent',
            name='member',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='consents', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='contactrecord',
            name='member',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='contacts', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='contract',
            name='member',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='contracts', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='entrustment',
            name='member',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='entrustments', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalmember',
            name='id',
            field=models.BigIntegerField(auto_created=True, blank=True, verbose_name='ID'),
        ),
        migrations.AlterField(
            model_name='historicalpaymentrecord',
            name='id',
            field=models.BigIntegerField(auto_created=True, blank=True, verbose_name='ID'),
        ),
        migrations.AlterField(
            model_name='onlineauthevent',
            name='member',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='auth_events', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='partnersyncevent',
            name='affiliate',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='sync_events', to='members.affiliate', verbose_name='提携先'),
        ),
        migrations.AlterField(
            model_name='paymentrecord',
            name='contract',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='members.contract', verbose_name='契約'),
        ),
        migrations.AlterField(
            model_name='provisionrecord',
            name='member',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='provision_records', to='members.member', verbose_name='会員'),
        ),
    ]
