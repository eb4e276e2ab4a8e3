# History tables keep only the indexes the audit reads (consentoffice.core.tracking.AuditedHistory; issue 18).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bureaus', '0005_civil_code_periods'),
        ('members', '0011_history_audit_indexes_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalbureau',
            name='code',
            field=models.CharField(max_length=8, verbose_name='コード'),
        ),
        migrations.AlterField(
            model_name='historicalbureau',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalinquiry',
            name='bureau',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='bureaus.bureau', verbose_name='照会先'),
        ),
        migrations.AlterField(
            model_name='historicalinquiry',
            name='contract',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.contract', verbose_name='契約（申込）'),
        ),
        migrations.AlterField(
            model_name='historicalinquiry',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalinquiry',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalinquiry',
            name='operator',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='照会者'),
        ),
        migrations.AlterField(
            model_name='historicalsubmission',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalsubmissionbatch',
            name='bureau',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='bureaus.bureau', verbose_name='登録先'),
        ),
        migrations.AlterField(
            model_name='historicalsubmissionbatch',
            name='created_by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='作成者'),
        ),
        migrations.AlterField(
            model_name='historicalsubmissionbatch',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
    ]
