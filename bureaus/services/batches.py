"""Registration files (登録ファイル): claim a bureau's pending submissions and write them, chunk by chunk.

Two paths write the same file: one statement per chunk on PostgreSQL, ORM queries elsewhere
(docs/bureau-file-format.md, "How a file is built").
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.storage import storages
from django.db import connection, transaction
from django.utils import timezone

from bureaus import fileformat
from bureaus.models import Bureau, BureauKind, Submission, SubmissionBatch, SubmissionStatus
from bureaus.services.common import _set_based
from bureaus.services.provisions import _record_provisions
from consentoffice.core.history import copy_to_history, history_select, save_tracked
from consentoffice.core.i18n import record_text
from members.services import require_perm

logger = logging.getLogger(__name__)

# Submissions claimed and encoded per statement when a batch file is built (see ``_claim_into``).
CLAIM_CHUNK = 5000
PRIVATE_STORAGE = "private"


def build_batches(*, actor, now: datetime | None = None) -> list[SubmissionBatch]:
    """One registration file per member bureau holding its pending submissions (idempotent:
    nothing pending, no file). Rows another worker has claimed are skipped, not waited for."""
    require_perm(actor, "bureaus.add_submissionbatch")
    now = now or timezone.now()
    batches = []
    for bureau in Bureau.objects.filter(kind=BureauKind.MEMBER).order_by("id"):
        if not Submission.objects.filter(bureau=bureau, status=SubmissionStatus.PENDING).exists():
            continue
        batch = _build_batch(bureau, actor=actor, now=now)
        if batch is not None:
            batches.append(batch)
    return batches


def _build_batch(bureau: Bureau, *, actor, now: datetime) -> SubmissionBatch | None:
    storage = storages[PRIVATE_STORAGE]
    saved_name = None
    try:
        with transaction.atomic(), _Spool() as spool:
            if _set_based() and settings.BUREAU_BATCH_WORK_MEM:
                with connection.cursor() as cursor:
                    # The claimed chunks and the provision records' grouping fit in memory.
                    cursor.execute(
                        "SELECT set_config('work_mem', %s, true)", [settings.BUREAU_BATCH_WORK_MEM]
                    )
            batch = save_tracked(
                SubmissionBatch(bureau=bureau, created_at=now, created_by=actor),
                actor=actor,
                reason=record_text("登録ファイルを作成"),
            )
            writer = fileformat.BatchWriter(spool.file)
            writer.header(
                bureau_code=bureau.code,
                sender_code=getattr(settings, "BUREAU_SENDER_CODE", ""),
                batch_id=batch.pk,
                created_at=timezone.localtime(now),
            )
            count = _claim_into(writer, bureau=bureau, batch=batch, actor=actor)
            if not count:
                transaction.set_rollback(True)
                return None
            writer.trailer()
            local = timezone.localtime(now)
            saved_name = storage.save(
                f"bureaus/{bureau.code}/{local:%Y%m%d}/{bureau.code}-{batch.pk:08d}.dat", spool.finished()
            )
            batch.file_name = saved_name
            batch.record_count = count
            batch.sha256 = writer.sha256
            save_tracked(batch, actor=actor, reason=record_text("登録ファイルを作成"))
            _record_provisions(batch, actor=actor, provided_on=timezone.localdate(now))
    except Exception:
        if saved_name:
            storage.delete(saved_name)
        raise
    logger.info("bureau batch %s built: %s records", batch.pk, batch.record_count)
    return batch


class _Spool(File):
    """The file being written, in the temporary folder; a file-system storage moves the finished
    file into place (``temporary_file_path``) instead of copying hundreds of megabytes."""

    def __init__(self) -> None:
        super().__init__(tempfile.NamedTemporaryFile(prefix="bureau-", suffix=".dat", delete=False))

    def temporary_file_path(self) -> str:
        return self.file.name

    def finished(self) -> _Spool:
        self.file.flush()
        self.file.seek(0)
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.file.name)


class _Chunk:
    """A claimed chunk: the id of its last row (``None``: nothing was claimed) and ``rows()``, the
    rows of its data records (``fileformat.ROW_FIELDS``). On PostgreSQL the rows stay in the
    cursor's result until ``rows()`` converts them, which the encoder thread does while the main
    thread already claims the next chunk on another cursor."""

    def __init__(self, last: int | None, rows: Any) -> None:
        self.last = last
        self.rows = rows


def _claim_chunk(
    *, bureau: Bureau, batch: SubmissionBatch, after: int, actor, reason: str, at: datetime, cursor=None
) -> _Chunk:
    """Claim the next ``CLAIM_CHUNK`` pending submissions of the bureau in id order: rows another
    worker holds are skipped, not waited for; they are marked batched and get their history rows."""
    if _set_based():
        sql, history_params = _claim_sql(actor=actor, reason=reason, at=at)
        cursor.execute(
            sql,
            [SubmissionStatus.BATCHED, batch.pk, bureau.pk, SubmissionStatus.PENDING, after, CLAIM_CHUNK]
            + history_params,
        )
        if not cursor.rowcount:
            return _Chunk(None, list)
        # The id of the last row (in id order) without converting the others.
        cursor.scroll(cursor.rowcount - 1, mode="absolute")
        last = cursor.fetchone()[0]
        cursor.scroll(0, mode="absolute")
        return _Chunk(last, cursor.fetchall)
    ids = list(
        Submission.objects.select_for_update(skip_locked=True)
        .filter(bureau=bureau, status=SubmissionStatus.PENDING, pk__gt=after)
        .order_by("pk")
        .values_list("pk", flat=True)[:CLAIM_CHUNK]
    )
    if not ids:
        return _Chunk(None, list)
    Submission.objects.filter(pk__in=ids, status=SubmissionStatus.PENDING).update(
        status=SubmissionStatus.BATCHED, batch=batch
    )
    claimed = Submission.objects.filter(pk__in=ids, batch=batch)
    copy_to_history(claimed, actor=actor, reason=reason, at=at)
    # The payload is read whole and picked apart in Python (``fileformat.payload_row``): SQLite's
    # JSON key lookups return the text 'null' for a JSON null (a running contract's ``ended_on``).
    rows = claimed.order_by("pk").values_list(
        "pk", "record_type", "event_date", "registered_until", "original_id", "payload"
    )
    found = [
        fileformat.payload_row(
            submission_id=pk,
            record_type=record_type,
            event_date=event_date,
            registered_until=registered_until,
            original_id=original_id,
            payload=payload,
        )
        for pk, record_type, event_date, registered_until, original_id, payload in rows
    ]
    if not found:
        return _Chunk(None, list)
    return _Chunk(found[-1][0], lambda: found)


def _claim_sql(*, actor, reason: str, at: datetime) -> tuple[str, list]:
    """PostgreSQL does a chunk in one statement, reading each row once: the UPDATE of the rows
    locked (SKIP LOCKED) in id order returns them to the history INSERT and to the SELECT of the
    data record values (the payload paths of ``fileformat.PAYLOAD_PATHS``).

    Why ``ctid`` and the unchanged key columns: docs/bureau-file-format.md, "The claim statement on
    PostgreSQL"."""
    quote = connection.ops.quote_name
    table = quote(Submission._meta.db_table)
    columns, values, params = history_select(
        Submission, connection, actor=actor, reason=reason, history_type="~", at=at
    )
    row = [f"source.{quote(Submission._meta.pk.column)}"]
    row += [f"source.{quote(name)}" for name in fileformat.SUBMISSION_COLUMNS[1:]]
    for name, path in fileformat.PAYLOAD_PATHS:
        if not all(key.isidentifier() and key.isascii() for key in path):
            raise ImproperlyConfigured(f"payload path of {name}")
        literal = "'{" + ",".join(path) + "}'"
        json_text = name in fileformat.JSON_FIELDS
        row.append(f"(source.payload #> {literal})::text" if json_text else f"source.payload #>> {literal}")
    unchanged = ", ".join(f"{column} = {column}" for column in map(quote, UNCHANGED_KEY_COLUMNS))
    sql = f"""
        WITH source AS (
            UPDATE {table} SET status = %s, batch_id = %s, {unchanged}
            WHERE ctid = ANY(ARRAY(
                SELECT ctid FROM {table} WHERE bureau_id = %s AND status = %s AND id > %s
                ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
            ))
            RETURNING *
        ), history AS (
            INSERT INTO {quote(Submission.history.model._meta.db_table)} ({columns}) SELECT {values} FROM source
        )
        SELECT {", ".join(row)} FROM source ORDER BY id
    """
    return sql, params


# Columns a claim sets to themselves (see ``_claim_sql``): the keys of the non-unique indexes on
# columns a claim does not change.
UNCHANGED_KEY_COLUMNS = ("member_id", "bureau_id", "contract_id")


def _claim_into(writer: fileformat.BatchWriter, *, bureau: Bureau, batch: SubmissionBatch, actor) -> int:
    """Claim the bureau's pending submissions chunk by chunk and write their data records. A
    second thread converts and encodes one chunk while the database claims the next (on the
    other of two cursors), so the machine's two cores share the work; memory holds at most two
    chunks."""
    reason = record_text("登録ファイル %(batch)s に収録（送信）", batch=batch.pk)
    at = timezone.now()
    written, after, encoding = 0, 0, None
    # The cursors close after the encoder thread has finished with them.
    with (
        contextlib.ExitStack() as stack,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="bureau-file") as encoder,
    ):
        cursors = [stack.enter_context(connection.cursor()) for _n in range(2)] if _set_based() else [None]
        while True:
            chunk = _claim_chunk(
                bureau=bureau,
                batch=batch,
                after=after,
                actor=actor,
                reason=reason,
                at=at,
                cursor=cursors[0],
            )
            if encoding is not None:
                written += encoding.result()
            if chunk.last is None:
                return written
            after = chunk.last
            encoding = encoder.submit(_encode, writer, chunk)
            cursors.reverse()


def _encode(writer: fileformat.BatchWriter, chunk: _Chunk) -> int:
    return writer.rows(chunk.rows())
