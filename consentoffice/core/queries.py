"""Query pieces every app's selectors use."""

from django.db import connections
from django.db.models import Count, IntegerField, QuerySet, Subquery
from django.db.models.functions import Coalesce


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
