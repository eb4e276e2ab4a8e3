"""No index is redundant: a single-column index whose column leads another index of the same table
costs every write and its disk for nothing (issue 18, storage). PostgreSQL's catalogue tells partial
and expression indexes apart, so the check runs there."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

REDUNDANT = """
    SELECT t.relname, single.relname, covering.relname
    FROM pg_index s
    JOIN pg_class single ON single.oid = s.indexrelid
    JOIN pg_class t ON t.oid = s.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
    JOIN pg_index l ON l.indrelid = s.indrelid AND l.indexrelid <> s.indexrelid
    JOIN pg_class covering ON covering.oid = l.indexrelid
    WHERE s.indnatts = 1 AND NOT s.indisunique AND s.indpred IS NULL AND s.indexprs IS NULL
      AND l.indnatts > 1 AND l.indpred IS NULL AND l.indexprs IS NULL
      AND l.indkey[0] = s.indkey[0]
      AND single.relam = covering.relam
      AND s.indclass[0] = l.indclass[0]
      AND t.relname NOT LIKE 'auth\\_%' AND t.relname NOT LIKE 'axes\\_%'  -- Django's and django-axes' own
    ORDER BY 1, 2
"""


def test_no_single_column_index_is_covered_by_another():
    with connection.cursor() as cursor:
        cursor.execute(REDUNDANT)
        found = cursor.fetchall()
    assert found == []
