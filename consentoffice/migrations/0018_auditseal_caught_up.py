# Whether the run that sealed a block had caught up with its table (back-dated warnings; issue 18).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('consentoffice', '0017_partition_history_by_month'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditseal',
            name='caught_up',
            field=models.BooleanField(default=True, verbose_name='追いついた'),
        ),
    ]
