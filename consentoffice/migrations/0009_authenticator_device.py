"""The staff's authenticator devices with the key encrypted, and one-time enrolment codes.

django-otp's TOTP plugin kept each key in clear (``otp_totp_totpdevice.key``). The plugin is no
longer installed: its devices are copied here with the key encrypted (the same secrets, so nobody
has to enrol again), and its table is dropped so no clear key stays behind.
"""

import consentoffice.core.crypto
import consentoffice.models
import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models


OLD_TABLE = "otp_totp_totpdevice"


def copy_clear_devices(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    Device = apps.get_model("consentoffice", "AuthenticatorDevice")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT user_id, name, confirmed, key, drift, last_t, throttling_failure_timestamp, "
            f"throttling_failure_count FROM {OLD_TABLE} ORDER BY id"
        )
        rows = cursor.fetchall()
    for user_id, name, confirmed, key, drift, last_t, failed_at, failures in rows:
        Device.objects.create(
            user_id=user_id,
            name=name,
            confirmed=confirmed,
            key=key,  # encrypted by the field on the way in
            drift=drift,
            last_t=last_t,
            throttling_failure_timestamp=failed_at,
            throttling_failure_count=failures,
        )
    schema_editor.execute(f"DROP TABLE {OLD_TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("consentoffice", "0008_principal_groups"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuthenticatorDevice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(help_text="The human-readable name of this device.", max_length=64),
                ),
                ("confirmed", models.BooleanField(default=True, help_text="Is this device ready for use?")),
                (
                    "throttling_failure_timestamp",
                    models.DateTimeField(
                        blank=True,
                        default=None,
                        help_text="A timestamp of the last failed verification attempt. Null if last attempt succeeded.",
                        null=True,
                    ),
                ),
                (
                    "throttling_failure_count",
                    models.PositiveIntegerField(default=0, help_text="Number of successive failed attempts."),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        auto_now_add=True,
                        help_text="The date and time when this device was initially created in the system.",
                        null=True,
                    ),
                ),
                (
                    "last_used_at",
                    models.DateTimeField(
                        blank=True, help_text="The most recent date and time this device was used.", null=True
                    ),
                ),
                (
                    "key",
                    consentoffice.core.crypto.SecretTextField(
                        default=consentoffice.models.new_totp_key, verbose_name="秘密鍵"
                    ),
                ),
                ("drift", models.SmallIntegerField(default=0, verbose_name="時刻のずれ（ステップ数）")),
                ("last_t", models.BigIntegerField(default=-1, verbose_name="最後に使われたステップ")),
                (
                    "user",
                    models.ForeignKey(
                        help_text="The user that this device belongs to.",
                        on_delete=django.db.models.deletion.CASCADE,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "認証アプリ",
                "verbose_name_plural": "認証アプリ",
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="HistoricalEnrolmentCode",
            fields=[
                (
                    "id",
                    models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID"),
                ),
                (
                    "issued_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="発行日時"),
                ),
                ("expires_at", models.DateTimeField(verbose_name="有効期限")),
                ("used_at", models.DateTimeField(blank=True, null=True, verbose_name="使用日時")),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.TextField(null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "issued_by",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="発行者",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="対象者",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical 二段階認証の登録コード",
                "verbose_name_plural": "historical 二段階認証の登録コード",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="EnrolmentCode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code_hash", models.CharField(max_length=64, unique=True, verbose_name="コードのハッシュ")),
                (
                    "issued_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="発行日時"),
                ),
                ("expires_at", models.DateTimeField(verbose_name="有効期限")),
                ("used_at", models.DateTimeField(blank=True, null=True, verbose_name="使用日時")),
                (
                    "issued_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="発行者",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="対象者",
                    ),
                ),
            ],
            options={
                "verbose_name": "二段階認証の登録コード",
                "verbose_name_plural": "二段階認証の登録コード",
                "ordering": ["-issued_at", "-id"],
                "indexes": [models.Index(fields=["user", "-issued_at"], name="enrolmentcode_user_idx")],
            },
        ),
        migrations.RunPython(copy_clear_devices, migrations.RunPython.noop),
    ]
