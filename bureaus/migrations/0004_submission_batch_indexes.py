"""Indexes for building bureau batch files of a million records (issue 7).

A batch run marks every claimed submission batched and writes a history row for it, so every
index on the two tables costs a write per record. Gone: the single-column indexes of bureau and
member on submissions (they lead ``submission_queue_idx`` and ``submission_member_idx``), the plain
indexes of the mostly empty inquiry and original (now partial: only rows that have one), and the
foreign-key indexes of the history table (the audit pages use id, user, date and consentoffice's
(member, date) index). New: ``submission_pending_idx``, the per-bureau queue in id order that the
run claims chunk by chunk; rows leave it when sent, so it stays small.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bureaus", "0003_inquiry_submission_batch"),
        ("members", "0003_member_email_upper_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="historicalsubmission",
            name="batch",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="bureaus.submissionbatch",
                verbose_name="登録ファイル",
            ),
        ),
        migrations.AlterField(
            model_name="historicalsubmission",
            name="bureau",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="bureaus.bureau",
                verbose_name="登録先",
            ),
        ),
        migrations.AlterField(
            model_name="historicalsubmission",
            name="contract",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="members.contract",
                verbose_name="契約",
            ),
        ),
        migrations.AlterField(
            model_name="historicalsubmission",
            name="inquiry",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="bureaus.inquiry",
                verbose_name="照会",
            ),
        ),
        migrations.AlterField(
            model_name="historicalsubmission",
            name="member",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="members.member",
                verbose_name="会員",
            ),
        ),
        migrations.AlterField(
            model_name="historicalsubmission",
            name="original",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="bureaus.submission",
                verbose_name="元の登録",
            ),
        ),
        # The foreign keys stay; only their own indexes go (Django's AlterField would drop and
        # re-validate each constraint over the whole table).
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="submission",
                    name="bureau",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="submissions",
                        to="bureaus.bureau",
                        verbose_name="登録先",
                    ),
                ),
                migrations.AlterField(
                    model_name="submission",
                    name="inquiry",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="bureaus.inquiry",
                        verbose_name="照会",
                    ),
                ),
                migrations.AlterField(
                    model_name="submission",
                    name="member",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bureau_submissions",
                        to="members.member",
                        verbose_name="会員",
                    ),
                ),
                migrations.AlterField(
                    model_name="submission",
                    name="original",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="followups",
                        to="bureaus.submission",
                        verbose_name="元の登録",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "bureaus_submission_bureau_id_300e3870";',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "bureaus_submission_bureau_id_300e3870" ON "bureaus_submission" ("bureau_id");',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "bureaus_submission_inquiry_id_75f4624a";',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "bureaus_submission_inquiry_id_75f4624a" ON "bureaus_submission" ("inquiry_id");',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "bureaus_submission_member_id_e08a2fe6";',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "bureaus_submission_member_id_e08a2fe6" ON "bureaus_submission" ("member_id");',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "bureaus_submission_original_id_24fa8516";',
                    reverse_sql='CREATE INDEX IF NOT EXISTS "bureaus_submission_original_id_24fa8516" ON "bureaus_submission" ("original_id");',
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["bureau", "id"],
                name="submission_pending_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(
                condition=models.Q(("inquiry__isnull", False)),
                fields=["inquiry"],
                name="submission_inquiry_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="submission",
            index=models.Index(
                condition=models.Q(("original__isnull", False)),
                fields=["original"],
                name="submission_original_idx",
            ),
        ),
    ]
