"""Row digests of the sealed tables, computed by PostgreSQL where it can write the same bytes.

The canonical form is ``consentoffice.core.history.row_hash`` (Python); this module only makes it
faster: ``sql_digest`` renders the same JSON text in SQL and hashes it there, so the rows never
travel to Python. Tables with an encrypted column (hashed over decrypted values) and anything
else the SQL does not render exactly (a jsonb float: ``consentoffice_canonical_jsonb`` returns
NULL) are hashed by ``row_hash``. tests/audit/test_digests.py proves both equal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.db import connections, models

from consentoffice.core.crypto import EncryptedTextField
from consentoffice.core.history import CHUNK, Source, _hashed, canonical_json

CANONICAL_JSONB = "consentoffice_canonical_jsonb"
SQL_CHUNK = 10_000


def _timestamp(column: str) -> str:
    """``datetime.astimezone(UTC).isoformat()``: microseconds (six digits) only when not zero."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN isfinite({column}) THEN '\"' || to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN date_trunc('second', {column}) = {column} THEN '' ELSE to_char({utc}, '.US') END"
        f" || '+00:00\"' END"
    )


# PostgreSQL type (format_type without modifier) -> the JSON text of a non-NULL value, as
# json.dumps writes what Django's .values() returns for it (inet: Django loads its output as str).
RENDER = {
    "bigint": lambda c: f"{c}::text",
    "integer": lambda c: f"{c}::text",
    "smallint": lambda c: f"{c}::text",
    "boolean": lambda c: f"CASE WHEN {c} THEN 'true' ELSE 'false' END",
    "text": lambda c: f"to_json({c})::text",
    "character varying": lambda c: f"to_json({c})::text",
    "date": lambda c: f"CASE WHEN isfinite({c}) THEN '\"' || to_char({c}, 'YYYY-MM-DD') || '\"' END",
    "timestamp with time zone": _timestamp,
    "uuid": lambda c: f"'\"' || {c}::text || '\"'",
    "inet": lambda c: f"'\"' || concat({c}) || '\"'",  # inet_out (inet::text adds /32)
    "jsonb": lambda c: f"{CANONICAL_JSONB}({c})",
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _plain_field(field: models.Field, connection) -> bool:
    """Django hands the database's value to Python unchanged (a jsonb is only ``json.loads``-ed)."""
    if isinstance(field, EncryptedTextField):
        return False
    if connection.ops.get_db_converters(field.get_col(field.model._meta.db_table)):
        return False
    if isinstance(field, models.JSONField):
        return field.decoder is None and type(field).from_db_value is models.JSONField.from_db_value
    return not field.get_db_converters(connection)


def _column_types(source: Source, connection) -> tuple[dict[str, str], bool]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, format_type(atttypid, NULL), "
            f"to_regprocedure('{CANONICAL_JSONB}(jsonb)') IS NOT NULL "
            "FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
            [connection.ops.quote_name(source.table)],
        )
        rows = cursor.fetchall()
    return {name: kind for name, kind, _ in rows}, bool(rows and rows[0][2])


def _columns(source: Source, connection) -> tuple[list[tuple[str, str, str]] | None, bool]:
    """(key, quoted column, PostgreSQL type) of every column in the canonical key order, or None
    when a column cannot be rendered in SQL; and whether consentoffice_canonical_jsonb exists."""
    if connection.vendor != "postgresql":
        return None, False
    fields = {f.attname: f for f in source.model._meta.concrete_fields}
    if not fields or not all(_plain_field(field, connection) for field in fields.values()):
        return None, False
    types, has_jsonb_function = _column_types(source, connection)
    found = []
    # json.dumps(sort_keys=True) orders the keys (attnames) by code point, as sorted() does.
    for name in sorted(source.columns):
        kind = types.get(fields[name].column)
        if kind not in RENDER:
            return None, False
        found.append((name, connection.ops.quote_name(fields[name].column), kind))
    return found, has_jsonb_function


def _segments(table: str, columns: list[tuple[str, str, str]], *, raw_jsonb: bool) -> list[str]:
    """SQL text expressions whose concatenation is the row's canonical JSON. With ``raw_jsonb``
    every jsonb column is a segment of its own, its stored text (NULL for SQL NULL), for Python
    to render (``_join``)."""
    segments, current = [], []
    separator = "[" + json.dumps(table, ensure_ascii=False) + ",{"
    for key, column, kind in columns:
        current.append(_literal(separator + json.dumps(key, ensure_ascii=False) + ":"))
        separator = ","
        if raw_jsonb and kind == "jsonb":
            segments += [" || ".join(current), f"{column}::text"]
            current = []
        else:
            current.append(f"(CASE WHEN {column} IS NULL THEN 'null' ELSE {RENDER[kind](column)} END)")
    current.append(_literal("}]"))
    segments.append(" || ".join(current))
    return segments


def sql_digest(source: Source, connection) -> str | None:
    """SQL expression over the source table's columns (unqualified column names) whose value is
    the raw 32-byte SHA-256 (bytea) equal to ``bytes.fromhex(row_hash(source.table, values))``;
    NULL for a row it cannot render exactly (a jsonb with a number that is not an integer).
    None when the table cannot be hashed in SQL: not PostgreSQL, an encrypted column, or a
    column type this module does not render."""
    columns, has_jsonb_function = _columns(source, connection)
    if columns is None or (not has_jsonb_function and any(kind == "jsonb" for *_, kind in columns)):
        return None
    (text,) = _segments(source.table, columns, raw_jsonb=False)
    return _sha256(text)


def _sha256(text: str) -> str:
    return f"sha256(convert_to({text}, 'UTF8'))"


def _join(segments: tuple) -> bytes | None:
    """The digest of a row read in segments: SQL text, then (jsonb text, SQL text) pairs; the
    jsonb rendered as row_hash renders it (json.loads as Django does, then canonical_json)."""
    parts = []
    for index, segment in enumerate(segments):
        if index % 2:
            parts.append("null" if segment is None else canonical_json(json.loads(segment)))
        elif segment is None:
            return None
        else:
            parts.append(segment)
    return hashlib.sha256("".join(parts).encode("utf-8")).digest()


def _python(source: Source, qs: models.QuerySet) -> Iterator[tuple[int, datetime, bytes]]:
    for values, digest in _hashed(source, qs):
        yield values[source.pk], values[source.date_field], bytes.fromhex(digest)


def row_digests(
    source: Source,
    *,
    after: int = 0,
    upto: int | None = None,
    limit: int | None = None,
    ids: Iterable[int] | None = None,
) -> Iterator[tuple[int, datetime, bytes]]:
    """(row id, the row's date, raw 32-byte digest) for the source's rows with ``after < id <=
    upto`` (and only ``ids`` when given), in id order, at most ``limit`` rows. Computed by
    PostgreSQL where ``sql_digest`` allows (jsonb columns rendered by Python's json, as row_hash
    does), in keyset chunks of ``SQL_CHUNK`` rows; rows the SQL cannot render, and every row of
    other tables, by ``row_hash``."""
    manager = source.model._base_manager
    connection = connections[manager.db]
    if limit is not None and limit <= 0:
        return
    columns, _ = _columns(source, connection)
    chunks = None
    if ids is not None:
        wanted = sorted({i for i in ids if i > after and (upto is None or i <= upto)})
        size = SQL_CHUNK if columns else min(CHUNK, connection.features.max_query_params or CHUNK)
        chunks = iter([wanted[i : i + size] for i in range(0, len(wanted), size)])
    if columns is None:
        yield from _python_rows(source, manager, after=after, upto=upto, limit=limit, chunks=chunks)
        return
    if any(kind == "jsonb" for _, _, kind in columns):
        # PostgreSQL renders the other columns, Python the jsonb text: consentoffice_canonical_jsonb
        # runs a query per object or array (~150 µs a bureau submission payload), json.loads and
        # dumps take ~20 µs (BENCHMARKS.md, Audit seal). sql_digest stays the all-SQL form.
        select = ", ".join(_segments(source.table, columns, raw_jsonb=True))
    else:
        select = _sha256(_segments(source.table, columns, raw_jsonb=False)[0])
    yield from _sql_rows(source, manager, select, after=after, upto=upto, limit=limit, chunks=chunks)


def _python_rows(source, manager, *, after, upto, limit, chunks):
    if chunks is None:
        qs = manager.filter(**{f"{source.pk}__gt": after})
        if upto is not None:
            qs = qs.filter(**{f"{source.pk}__lte": upto})
        qs = qs.order_by(source.pk)
        yield from _python(source, qs if limit is None else qs[:limit])
        return
    left = limit
    for chunk in chunks:
        qs = manager.filter(**{f"{source.pk}__in": chunk}).order_by(source.pk)
        for row in _python(source, qs if left is None else qs[:left]):
            yield row
            if left is not None:
                left -= 1
        if left is not None and left <= 0:
            return


def _digest(selected: list) -> bytes | None:
    if len(selected) > 1:
        return _join(selected)
    return None if selected[0] is None else bytes(selected[0])


def _sql_rows(source, manager, expression: str, *, after, upto, limit, chunks):
    connection = connections[manager.db]
    quote = connection.ops.quote_name
    pk = quote(source.model._meta.pk.column)
    date = quote(source.model._meta.get_field(source.date_field).column)
    select = f"SELECT {pk}, {date}, {expression} FROM {quote(source.table)} WHERE {pk} > %s"
    if upto is not None:
        select += f" AND {pk} <= {int(upto)}"
    left = limit
    position = after
    while left is None or left > 0:
        size = SQL_CHUNK if left is None else min(SQL_CHUNK, left)
        if chunks is None:
            condition, params = "", [position]
        else:
            chunk = next(chunks, None)
            if chunk is None:
                return
            condition, params = f" AND {pk} = ANY(%s)", [after, chunk]
        with connection.cursor() as cursor:
            cursor.execute(f"{select}{condition} ORDER BY {pk} LIMIT %s", [*params, size])
            rows = cursor.fetchall()
        rows = [(row_id, at, _digest(rest)) for row_id, at, *rest in rows]
        unrendered = [row_id for row_id, _, digest in rows if digest is None]
        computed = {}
        if unrendered:
            qs = manager.filter(**{f"{source.pk}__in": unrendered}).order_by(source.pk)
            computed = {row_id: digest for row_id, _, digest in _python(source, qs)}
        for row_id, at, digest in rows:
            if digest is None and row_id not in computed:
                continue  # deleted since the SQL read
            yield row_id, at, digest if digest is not None else computed[row_id]
        if left is not None:
            left -= len(rows)
        if chunks is None:
            if len(rows) < size:
                return
            position = rows[-1][0]
