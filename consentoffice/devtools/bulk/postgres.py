"""The PostgreSQL side of a load: COPY writers on their own sessions, the next ids and the
sequences, the indexes dropped and built again (docs/postgresql.md, "The bulk seed")."""

from __future__ import annotations

import queue
import threading

import psycopg
from django.db import connection

from consentoffice.devtools.bulk.tables import WRITERS


def _psycopg_params() -> dict:
    params = connection.get_connection_params()
    return {k: v for k, v in params.items() if k not in ("cursor_factory", "context")}


class Writer(threading.Thread):
    """COPYs chunks on its own connection while the main thread builds the next chunk."""

    def __init__(self, columns: dict[str, tuple[str, ...]]):
        super().__init__(daemon=True)
        self.columns = columns
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.conn = psycopg.connect(**_psycopg_params(), autocommit=False)
        with self.conn.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            self.superuser = bool(cursor.fetchone()[0])
            if self.superuser:
                cursor.execute("SET session_replication_role = replica")
        self.conn.commit()

    def run(self) -> None:
        while True:
            chunk = self.queue.get()
            if chunk is None:
                return
            if self.error is not None:
                continue
            try:
                with self.conn.cursor() as cursor:
                    for table, columns in self.columns.items():
                        lines = chunk.get(table)
                        if not lines:
                            continue
                        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                            copy.write("".join(lines))
                self.conn.commit()
            except BaseException as exc:  # reported by the main thread
                self.error = exc

    def put(self, chunk: dict[str, list[str]]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(chunk)

    def finish(self) -> None:
        self.queue.put(None)
        self.join()
        self.conn.close()
        if self.error is not None:
            raise self.error


def _next_ids(tables: list[str]) -> dict[str, int]:
    ids = {}
    with connection.cursor() as cursor:
        for table in tables:
            key = "history_id" if "_historical" in table else "id"
            cursor.execute(f"SELECT COALESCE(MAX({key}), 0) + 1 FROM {table}")
            ids[table] = cursor.fetchone()[0]
    return ids


def _reset_sequences(tables: list[str]) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            key = "history_id" if "_historical" in table else "id"
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), (SELECT COALESCE(MAX({key}), 1) FROM {table}))",
                [table, key],
            )


def droppable_indexes(tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of the non-unique indexes not backing a constraint on ``tables``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(%s) AND indexdef NOT LIKE 'CREATE UNIQUE%%' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
            [tables],
        )
        return list(cursor.fetchall())


def build_indexes(definitions: list[str], sessions: int = WRITERS) -> None:
    """Build the dropped indexes again, ``sessions`` at a time (one sort per index)."""
    pending: queue.Queue = queue.Queue()
    for definition in definitions:
        # A partitioned table's index is listed "ON ONLY" the parent; built on the parent it makes
        # one on every partition (consentoffice.core.partitions).
        definition = definition.replace(" ON ONLY ", " ON ", 1)
        pending.put(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with psycopg.connect(**_psycopg_params(), autocommit=True) as conn:
                conn.execute("SET maintenance_work_mem = '256MB'")
                while True:
                    try:
                        statement = pending.get_nowait()
                    except queue.Empty:
                        return
                    conn.execute(statement)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _ticket_seq_start() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT substring(number from 1 for 10), MAX(CAST(substring(number from 11) AS integer)) "
            "FROM requests_ticket WHERE number ~ '^T[0-9]{8}-[0-9]+$' GROUP BY 1"
        )
        return {prefix: last for prefix, last in cursor.fetchall()}
