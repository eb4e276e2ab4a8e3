"""Principals that are not people get groups of their own instead of ``is_superuser``.

The ``system`` user (Celery tasks, commands) and the ``affiliate-<code>`` users (inbound partner
changes, Art. 10) join the ``system`` and ``affiliate`` groups and lose ``is_superuser``; the
groups' permissions follow ``consentoffice.core.roles.PRINCIPAL_PERMISSIONS`` (post_migrate, as the
role groups of 0002 do). Also: the notice kind for refused out-of-scope inbound changes.
"""

from django.db import migrations, models

SYSTEM, AFFILIATE = "system", "affiliate"


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("auth", "User")
    system, _ = Group.objects.get_or_create(name=SYSTEM)
    affiliate, _ = Group.objects.get_or_create(name=AFFILIATE)
    # Only the synthetic users: they were made with an unusable password ("!…"), people were not.
    synthetic = User.objects.filter(password__startswith="!")
    for user in synthetic.filter(username=SYSTEM):
        user.groups.add(system)
    for user in synthetic.filter(username__startswith="affiliate-"):
        user.groups.add(affiliate)
    User.objects.filter(groups__name__in=[SYSTEM, AFFILIATE]).update(is_superuser=False)


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("auth", "User")
    User.objects.filter(groups__name__in=[SYSTEM, AFFILIATE]).update(is_superuser=True)
    Group.objects.filter(name__in=[SYSTEM, AFFILIATE]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("consentoffice", "0007_auditseal_backdated"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("due_soon", "期限間近"),
                    ("overdue", "期限超過"),
                    ("escalation", "エスカレーション"),
                    ("bureau_reject", "信用情報機関の返却"),
                    ("sync_dead", "提携先連携の送信不能"),
                    ("partner_scope", "提携先からの対象外の変更通知"),
                ],
                max_length=16,
                verbose_name="種類",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
