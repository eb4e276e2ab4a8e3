# No index that another index of the table covers: each single-column index here led a composite
# or unique index of its table (tests/test_redundant_indexes.py; issue 18, storage).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('bureaus', '0007_submission_history_without_payload'),
        ('members', '0012_no_redundant_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='inquiry',
            name='member',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='bureau_inquiries', to='members.member', verbose_name='会員'),
        ),
        migrations.AlterField(
            model_name='submissionbatch',
            name='bureau',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='batches', to='bureaus.bureau', verbose_name='登録先'),
        ),
    ]
