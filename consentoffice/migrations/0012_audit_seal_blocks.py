"""The audit seal in blocks: one row per up to 10,000 consecutive sealed rows of a table instead of
one row per sealed row (about 300 bytes and a row insert per audit row: at a million members 30 M
seal rows, the largest table of the audit; issue 18), and the checkpoint of incremental verification.

Existing per-row seals are converted: the old chain is verified link by link (and against the heads
anchored outside the database) before its row hashes are regrouped into blocks and chained again;
a chain that does not verify stops the migration, so no tampering is laundered into the new chain.
The old anchor file is kept beside the new one (``.rows``) and the converted head is anchored anew.
"""

import hmac
from pathlib import Path

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models, transaction

from consentoffice.core.history import BLOCK_ROWS, GENESIS, chain_link, new_block


def _old_anchors():
    from consentoffice.audit.seal import read_anchors

    return read_anchors()


def convert(apps, schema_editor):
    Old = apps.get_model("consentoffice", "AuditSeal")
    Block = apps.get_model("consentoffice", "AuditSealBlock")
    db = schema_editor.connection.alias
    anchors = _old_anchors()
    old_rows = Old.objects.using(db).order_by("seq")
    if not old_rows.exists():
        return
    heads = {}
    for seq, head, authentic in anchors:
        if not authentic:
            raise RuntimeError(f"audit anchor for seal #{seq} is not authentic: run verify_audit before migrating")
        heads.setdefault(seq, []).append(head)

    old_chain, new_chain, new_seq = GENESIS, GENESIS, 0
    pending = []  # (table, row_id, digest bytes, backdated, sealed_at)
    last_seq = None

    def flush():
        nonlocal new_chain, new_seq
        if not pending:
            return
        new_seq += 1
        block = new_block(
            Block,
            seq=new_seq,
            previous=new_chain,
            table=pending[0][0],
            ids=[entry[1] for entry in pending],
            digests=[entry[2] for entry in pending],
            backdated=[entry[1] for entry in pending if entry[3]],
            sealed_at=pending[-1][4],
        )
        block.save(using=db)
        new_chain = block.chain_hash
        pending.clear()

    expected = 1
    for row in old_rows.iterator(chunk_size=2000):
        old_chain = chain_link(old_chain, seq=row.seq, table=row.table, row_id=row.row_id, digest=row.row_hash)
        if row.seq != expected or not hmac.compare_digest(old_chain, row.chain_hash):
            raise RuntimeError(f"audit seal #{row.seq} does not verify: run verify_audit before migrating")
        for head in heads.pop(row.seq, ()):
            if not hmac.compare_digest(head, row.chain_hash):
                raise RuntimeError(f"audit seal #{row.seq} differs from its anchor: run verify_audit before migrating")
        expected = row.seq + 1
        if pending and (pending[0][0] != row.table or len(pending) >= BLOCK_ROWS or row.row_id <= pending[-1][1]):
            flush()
        pending.append((row.table, row.row_id, bytes.fromhex(row.row_hash), row.backdated, row.sealed_at))
        last_seq = row.seq
    flush()
    if heads:
        raise RuntimeError(f"audit anchors past seal #{last_seq}: run verify_audit before migrating")

    from consentoffice.audit.seal import write_anchor

    path = Path(settings.AUDIT_ANCHOR_FILE)
    head_seq, head_chain = new_seq, new_chain

    def reanchor():
        if path.exists():
            path.replace(path.with_name(path.name + ".rows"))
        write_anchor(seq=head_seq, chain=head_chain, at=django.utils.timezone.now())

    transaction.on_commit(reanchor, using=db)


def digests_external(apps, schema_editor):
    """The digests do not compress: PostgreSQL stores them out of line without trying."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE consentoffice_auditseal ALTER COLUMN digests SET STORAGE EXTERNAL")


class Migration(migrations.Migration):
    dependencies = [("consentoffice", "0011_audit_date_index")]

    operations = [
        migrations.CreateModel(
            name="AuditSealBlock",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(unique=True, verbose_name="連番")),
                ("table", models.CharField(max_length=100, verbose_name="テーブル")),
                ("first_id", models.BigIntegerField(verbose_name="最初の行ID")),
                ("last_id", models.BigIntegerField(verbose_name="最後の行ID")),
                ("rows", models.PositiveIntegerField(verbose_name="行数")),
                ("ids", models.BinaryField(verbose_name="行ID")),
                ("digests", models.BinaryField(verbose_name="行ハッシュ")),
                ("chain_hash", models.CharField(max_length=64, verbose_name="連鎖ハッシュ")),
                ("sealed_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="封印日時")),
                ("backdated", models.BinaryField(default=b"", verbose_name="遡った日付の行")),
            ],
            options={
                "verbose_name": "監査証跡の封印",
                "verbose_name_plural": "監査証跡の封印",
                "ordering": ["seq"],
                "permissions": [("view_audit_clear_values", "監査証跡で暗号化項目を伏せ字なしで表示できる")],
                "constraints": [models.UniqueConstraint(fields=("table", "last_id"), name="auditseal_table_last")],
            },
        ),
        migrations.RunPython(convert, migrations.RunPython.noop),
        migrations.DeleteModel(name="AuditSeal"),
        migrations.RenameModel(old_name="AuditSealBlock", new_name="AuditSeal"),
        migrations.RunPython(digests_external, migrations.RunPython.noop),
        migrations.CreateModel(
            name="AuditVerification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.BigIntegerField(verbose_name="連番")),
                ("chain_hash", models.CharField(max_length=64, verbose_name="連鎖ハッシュ")),
                ("verified_at", models.DateTimeField(verbose_name="検証日時")),
                ("mac", models.CharField(max_length=64, verbose_name="改ざん検知符号")),
            ],
            options={
                "verbose_name": "監査証跡の検証済み位置",
                "verbose_name_plural": "監査証跡の検証済み位置",
            },
        ),
    ]
