"""Rotate every encrypted value to the first key of FIELD_ENCRYPTION_KEYS (consentoffice.core.crypto).

Key rotation: put the new key in front of FIELD_ENCRYPTION_KEYS, deploy, run this command, then
drop the old key. Every model with an ``EncryptedTextField``/``EncryptedIntegerField`` is covered,
the simple-history tables included (they hold the same values), and so are the disclosure package
files encrypted with the same keys. Tokens are read and written with a
raw cursor so the ORM never decrypts them into memory as plaintext, and rows already under the
first key are left alone: a second run changes nothing. ``--dry-run`` only counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from consentoffice.core import crypto
from consentoffice.core.crypto import EncryptedTextField

BATCH_SIZE = 1000


@dataclass
class TableResult:
    table: str
    columns: list[str]
    rows: int = 0
    rotated: int = 0
    current: int = 0
    failed_pks: list = field(default_factory=list)


def encrypted_tables() -> list[tuple[str, str, list[str]]]:
    """(table, primary-key column, encrypted columns) for every concrete model, history included."""
    found = []
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or not opts.managed:
            continue
        columns = [f.column for f in opts.concrete_fields if isinstance(f, EncryptedTextField)]
        if columns:
            found.append((opts.db_table, opts.pk.column, columns))
    return sorted(found)


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field (history tables included) with the first key of FIELD_ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be rotated; write nothing."
        )
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, dry_run: bool = False, batch_size: int = BATCH_SIZE, database: str, **options):
        keys = list(settings.FIELD_ENCRYPTION_KEYS)
        if not keys:
            raise CommandError("FIELD_ENCRYPTION_KEYS is empty.")
        crypto.fernet()  # fails early on a malformed key
        first = Fernet(keys[0].encode())
        connection = connections[database]
        failed = 0
        for table, pk_column, columns in encrypted_tables():
            result = self._rotate_table(
                connection, first, table, pk_column, columns, dry_run=dry_run, batch_size=batch_size
            )
            verb = "would rotate" if dry_run else "rotated"
            line = (
                f"{table} ({', '.join(columns)}): {result.rows} rows, {verb} {result.rotated}, "
                f"unchanged {result.current}"
            )
            if result.failed_pks:
                failed += len(result.failed_pks)
                shown = ", ".join(str(pk) for pk in result.failed_pks[:20])
                line += f", undecryptable {len(result.failed_pks)} (ids: {shown})"
                self.stderr.write(self.style.ERROR(line))
            else:
                self.stdout.write(line)
        from requests.disclosure import reencrypt_package_files

        files, rotated = reencrypt_package_files(first=first, dry_run=dry_run)
        verb = "would rotate" if dry_run else "rotated"
        self.stdout.write(f"disclosure package files: {files} files, {verb} {rotated}")
        if failed:
            raise CommandError(
                f"{failed} rows hold values no key in FIELD_ENCRYPTION_KEYS can decrypt; they were left unchanged."
            )
        self.stdout.write(self.style.SUCCESS("Dry run: nothing written." if dry_run else "Done."))

    def _rotate_table(
        self,
        connection,
        first: Fernet,
        table: str,
        pk_column: str,
        columns: list[str],
        *,
        dry_run,
        batch_size,
    ) -> TableResult:
        qn = connection.ops.quote_name
        result = TableResult(table=table, columns=columns)
        lock = " FOR UPDATE" if connection.features.has_select_for_update and not dry_run else ""
        selected = ", ".join(qn(c) for c in [pk_column, *columns])
        order = f"ORDER BY {qn(pk_column)} LIMIT %s{lock}"
        first_batch = f"SELECT {selected} FROM {qn(table)} {order}"
        next_batch = f"SELECT {selected} FROM {qn(table)} WHERE {qn(pk_column)} > %s {order}"
        last_pk = None
        while True:
            with transaction.atomic(using=connection.alias):
                with connection.cursor() as cursor:
                    if last_pk is None:
                        cursor.execute(first_batch, [batch_size])
                    else:
                        cursor.execute(next_batch, [last_pk, batch_size])
                    rows = cursor.fetchall()
                    if not rows:
                        return result
                    updates: dict[tuple[str, ...], list[list]] = {}
                    for pk, *tokens in rows:
                        result.rows += 1
                        new_values = {}
                        try:
                            for column, token in zip(columns, tokens, strict=True):
                                if token in (None, "") or _is_current(first, token):
                                    continue
                                new_values[column] = crypto.rotate(token)
                        except (InvalidToken, TypeError, ValueError):
                            result.failed_pks.append(pk)
                            continue
                        if not new_values:
                            result.current += 1
                            continue
                        result.rotated += 1
                        cols = tuple(sorted(new_values))
                        updates.setdefault(cols, []).append([new_values[c] for c in cols] + [pk])
                    if not dry_run:
                        for cols, params in updates.items():
                            assignments = ", ".join(f"{qn(c)} = %s" for c in cols)
                            cursor.executemany(
                                f"UPDATE {qn(table)} SET {assignments} WHERE {qn(pk_column)} = %s", params
                            )
                    last_pk = rows[-1][0]
            if len(rows) < batch_size:
                return result


def _is_current(first: Fernet, token: str) -> bool:
    try:
        first.decrypt(token.encode())
    except InvalidToken:
        return False
    return True
