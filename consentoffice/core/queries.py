"""Query pieces every app's selectors use."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.db import connections
from django.db.models import Count, IntegerField, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.db.models.sql.compiler import SQLCompiler


def count_of(rows: QuerySet, group_by: str) -> Coalesce:
    """How many of ``rows`` (filtered on an ``OuterRef``) there are, as one correlated subquery:
    a count next to each outer row without a join that would multiply other counts."""
    counted = rows.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def jit_off(alias: str = "default") -> None:
    """``SET LOCAL jit = off`` for the rest of the caller's transaction (PostgreSQL; nothing elsewhere).

    PostgreSQL compiles a plan with JIT when its cost estimate is high, as it is for a count over a
    million index entries or a rule of many ``EXISTS``: the compiling took 0.5–0.7 s per statement
    here and saves nothing on a plan of index lookups. Call it inside ``transaction.atomic()``."""
    db = connections[alias]
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


@dataclass(frozen=True)
class Statement:
    """A query compiled once and run again with other values in marked places.

    Building and compiling a query of many tables costs more Python than running it (the audit
    list's union of 27 history tables: ~15 ms), and PostgreSQL plans it again each time (~10 ms).
    A statement keeps the SQL and the compiler (for the columns' converters); ``rows`` puts the
    values in place of the marks and runs it as a prepared statement on PostgreSQL, so each
    connection plans it once (``DATABASES`` ``prepare_threshold``, settings.py). Keep statements
    per thread (``StatementCache``): a compiler belongs to its thread's connection."""

    sql: str
    params: tuple
    compiler: SQLCompiler
    marks: dict[int, str]

    @classmethod
    def compile(cls, rows: QuerySet, marks: dict[object, str] | None = None) -> Statement:
        """``rows`` compiled; each parameter equal to a key of ``marks`` is that value's place.
        A mark must be a value nothing else in the query can hold (a number of 13 digits)."""
        compiler = rows.query.get_compiler(using=rows.db)
        sql, params = compiler.as_sql()
        marks = marks or {}
        places = {i: marks[value] for i, value in enumerate(params) if _hashable(value) and value in marks}
        missing = set(marks.values()) - set(places.values())
        if missing:
            raise ValueError(f"marked values not in the statement: {sorted(missing)}")
        return cls(sql=sql, params=tuple(params), compiler=compiler, marks=places)

    def rows(self, **values) -> list[tuple]:
        """The statement's rows, the marked places holding ``values``, converted as the queryset
        would have converted them (dates, decimals, encrypted fields)."""
        params = list(self.params)
        for index, name in self.marks.items():
            params[index] = values[name]
        db = self.compiler.connection
        with _prepared_cursor(db) as cursor:
            cursor.execute(self.sql, params)
            raw = cursor.fetchall()
        return list(self.compiler.results_iter(results=[raw], tuple_expected=True))


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _prepared_cursor(db):
    """A cursor that binds its parameters on the server, so PostgreSQL may keep the plan
    (psycopg prepares the statement on the connection); Django's own cursors bind on the client
    and never prepare. Elsewhere, the usual cursor. Logged and wrapped as Django's cursors are."""
    if db.vendor != "postgresql":
        return db.cursor()
    db.ensure_connection()
    return db._prepare_cursor(_server_binding_cursor()(db.connection))


@cache
def _server_binding_cursor() -> type:
    import psycopg

    class LoggedQuery:
        """The statement with its values, as Django's query log (``connection.queries``,
        ``CaptureQueriesContext``) reads it from a cursor's ``_query``: made only if read."""

        def __init__(self, cursor, sql, params):
            self.cursor, self.sql, self.params = cursor, sql, params

        @property
        def query(self) -> bytes:
            return psycopg.ClientCursor(self.cursor.connection).mogrify(self.sql, self.params).encode()

    class ServerBindingCursor(psycopg.Cursor):
        """psycopg's cursor that binds on the server (and so may prepare); unlike the client
        cursor it keeps no ``_query`` after running, which the query log needs."""

        def execute(self, query, params=None, **kwargs):
            result = super().execute(query, params, **kwargs)
            self._query = LoggedQuery(self, query, params)
            return result

    return ServerBindingCursor


_NOT_BUILT = object()


class StatementCache(threading.local):
    """Compiled statements by key, per thread, the least recently used dropped beyond ``size``."""

    def __init__(self, size: int = 64):
        self.size = size
        self.statements: OrderedDict[tuple, Statement] = OrderedDict()

    def get(self, key: tuple, build: Callable[[], Statement | None]) -> Statement | None:
        """The statement under ``key``, built on first use (``None``: a query of no rows, kept too)."""
        statement = self.statements.pop(key, _NOT_BUILT)
        if statement is _NOT_BUILT:
            statement = build()
        self.statements[key] = statement
        while len(self.statements) > self.size:
            self.statements.popitem(last=False)
        return statement

    def clear(self) -> None:
        self.statements.clear()
