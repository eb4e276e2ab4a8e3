"""Query pieces every app's selectors use."""

from django.db.models import Count, IntegerField, QuerySet, Subquery
from django.db.models.functions import Coalesce


def count_of(rows: QuerySet, group_by: str) -> Coalesce:
    """How many of ``rows`` (filtered on an ``OuterRef``) there are, as one correlated subquery:
    a count next to each outer row without a join that would multiply other counts."""
    counted = rows.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)
