"""Paging for lists over a million rows without counting them (issue 7: no full counts): a capped
count, or the planner's estimate on PostgreSQL. Every admin list uses it through
``consentoffice.core.admin.ListDefaultsMixin``. How: docs/postgresql.md#counting-without-count.
"""

from __future__ import annotations

from functools import cached_property
from math import ceil

from django.core.paginator import Paginator
from django.db import connections

MAX_PAGES = 200
# Below this estimate an exact count is cheap and right.
EXACT_BELOW = 50_000


class CappedCountPaginator(Paginator):
    max_pages = MAX_PAGES

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None:
            return super().count
        cap = self.max_pages * self.per_page
        if not query.where and not query.distinct:
            estimate = _estimated_rows(queryset)
            if estimate is not None and estimate >= EXACT_BELOW:
                return estimate
        return queryset.order_by()[: cap + 1].count()

    @cached_property
    def num_pages(self) -> int:
        if self.count == 0 and not self.allow_empty_first_page:
            return 0
        hits = max(1, self.count - self.orphans)
        return min(ceil(hits / self.per_page), self.max_pages)

    @property
    def capped(self) -> bool:
        return self.count > self.max_pages * self.per_page


def _estimated_rows(queryset) -> int | None:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None
