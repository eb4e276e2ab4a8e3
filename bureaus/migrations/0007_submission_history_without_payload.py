"""The submission history no longer copies the payload (bureaus.models.Submission: written once,
changed only by erasure; 3.5 KB per member at a million members, issue 18).

Dropping the column changes the content of history rows that were already sealed: each such row
gets a sanctioned amendment (consentoffice.core.history.record_amendments) naming the system user
and this reason, so ``verify_audit`` accepts the change and shows why it happened.
"""

from django.db import migrations

REASON = "スキーマ変更: 登録情報の履歴に登録内容を複製しない（登録内容は登録情報本体に一度だけ保存）"


def amend_sealed_rows(apps, schema_editor):
    from bureaus.models import Submission
    from consentoffice.core.history import _lock, record_amendments, source_for, system_user, unpack_ids
    from consentoffice.models import AuditSeal

    source = source_for(Submission.history.model)
    blocks = AuditSeal.objects.filter(table=source.table).order_by("seq").values_list("ids", flat=True)
    if not blocks.exists():
        return
    _lock()
    actor = system_user()
    for packed in blocks.iterator(chunk_size=16):
        record_amendments(source, unpack_ids(packed), actor=actor, reason=REASON)


class Migration(migrations.Migration):
    dependencies = [
        ("bureaus", "0006_history_audit_indexes_only"),
        ("consentoffice", "0014_audit_indexes_complete"),
    ]

    operations = [
        migrations.RemoveField(model_name="historicalsubmission", name="payload"),
        migrations.RunPython(amend_sealed_rows, migrations.RunPython.noop),
    ]
