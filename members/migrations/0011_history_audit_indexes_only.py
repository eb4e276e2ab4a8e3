# History tables keep only the indexes the audit reads (consentoffice.core.tracking.AuditedHistory; issue 18).

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0010_member_export_permission'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalaffiliate',
            name='code',
            field=models.SlugField(db_index=False, max_length=32, verbose_name='提携先コード'),
        ),
        migrations.AlterField(
            model_name='historicalaffiliate',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalconsent',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalconsent',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalconsent',
            name='purpose',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.purpose', verbose_name='利用目的'),
        ),
        migrations.AlterField(
            model_name='historicalconsent',
            name='version',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.consentversion', verbose_name='同意条項の版'),
        ),
        migrations.AlterField(
            model_name='historicalconsentversion',
            name='code',
            field=models.CharField(max_length=32, verbose_name='版コード'),
        ),
        migrations.AlterField(
            model_name='historicalconsentversion',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalconsentversion',
            name='prepared_by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='作成者'),
        ),
        migrations.AlterField(
            model_name='historicalconsentversion',
            name='published_by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='公開承認者'),
        ),
        migrations.AlterField(
            model_name='historicalcontactrecord',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalcontactrecord',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalcontactrecord',
            name='recorded_by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='記録者'),
        ),
        migrations.AlterField(
            model_name='historicalcontract',
            name='affiliate',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.affiliate', verbose_name='提携先'),
        ),
        migrations.AlterField(
            model_name='historicalcontract',
            name='consent_version',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.consentversion', verbose_name='同意条項の版'),
        ),
        migrations.AlterField(
            model_name='historicalcontract',
            name='contract_no',
            field=models.CharField(max_length=20, verbose_name='契約番号'),
        ),
        migrations.AlterField(
            model_name='historicalcontract',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalcontract',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalcontractor',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalcontractor',
            name='name',
            field=models.CharField(max_length=100, verbose_name='名称'),
        ),
        migrations.AlterField(
            model_name='historicalentrustment',
            name='contractor',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.contractor', verbose_name='委託先'),
        ),
        migrations.AlterField(
            model_name='historicalentrustment',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalentrustment',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalfinancialdeclaration',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalfinancialdeclaration',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalidentitydocument',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalidentitydocument',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalidentitydocument',
            name='verified_by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='確認者'),
        ),
        migrations.AlterField(
            model_name='historicallegalhold',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicallegalhold',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicallegalhold',
            name='placed_by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='設定者'),
        ),
        migrations.AlterField(
            model_name='historicallegalhold',
            name='released_by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='解除者'),
        ),
        migrations.AlterField(
            model_name='historicalmarketingextract',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalmarketingextract',
            name='user',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='抽出者'),
        ),
        migrations.AlterField(
            model_name='historicalmember',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalmember',
            name='member_no',
            field=models.CharField(max_length=16, verbose_name='会員番号'),
        ),
        migrations.AlterField(
            model_name='historicalmember',
            name='phone',
            field=models.CharField(max_length=11, verbose_name='電話番号'),
        ),
        migrations.AlterField(
            model_name='historicalonlineauthevent',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalonlineauthevent',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalpartnersyncevent',
            name='affiliate',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.affiliate', verbose_name='提携先'),
        ),
        migrations.AlterField(
            model_name='historicalpartnersyncevent',
            name='event_id',
            field=models.UUIDField(default=uuid.uuid4, editable=False, verbose_name='イベントID'),
        ),
        migrations.AlterField(
            model_name='historicalpartnersyncevent',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalpartnersyncevent',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalpaymentrecord',
            name='contract',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.contract', verbose_name='契約'),
        ),
        migrations.AlterField(
            model_name='historicalpaymentrecord',
            name='history_date',
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name='historicalpaymentrecord',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalprovisionrecord',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalprovisionrecord',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalpublicrecord',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='historicalpublicrecord',
            name='member',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='historicalpurpose',
            name='code',
            field=models.CharField(max_length=32, verbose_name='コード'),
        ),
        migrations.AlterField(
            model_name='historicalpurpose',
            name='history_user',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
    ]
