"""The access log: who viewed, searched or exported whose data (never the terms typed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connections
from django.utils import timezone

from consentoffice.core import roles
from consentoffice.core.crypto import mask
from members.models import (
    AccessAction,
    AccessLog,
    Member,
)


def record_access(
    *, user, action: str, member: Member | None = None, request=None, detail: str = ""
) -> AccessLog:
    """Append an access-log row. ``detail`` must never hold personal data (no search terms)."""
    ip, path = _origin(request)
    return AccessLog.objects.create(
        member=member, user=user, action=AccessAction(action), ip_address=ip, path=path, detail=detail[:300]
    )


def record_search(*, user, term, hits: int, via: str, more: bool = False, request=None) -> AccessLog:
    """A member search in the access log: the kind of term typed and the hits (``+`` when there
    were more than shown) and where it was typed, never the term itself."""
    return record_access(
        user=user,
        action=AccessAction.SEARCH,
        request=request,
        detail=f"kind={term.kind} hits={hits}{'+' if more else ''} via={via}",
    )


def record_sensitive_shown(*, request, member: Member) -> AccessLog | None:
    """One ``view_sensitive`` access for the values a page showed in clear
    (``members.selectors.show_sensitive`` notes them), naming the fields, never the values."""
    labels = getattr(request, "_sensitive_labels", None)
    if not labels:
        return None
    return record_access(
        user=request.user,
        action=AccessAction.VIEW_SENSITIVE,
        member=member,
        request=request,
        detail=", ".join(sorted(labels)),
    )


def sensitive_value(value: Any, *, viewer, member: Member, field_label: str, request=None) -> str:
    """A sensitive value as the viewer may see it: masked for operators, clear (and logged) above."""
    if value in (None, ""):
        return ""
    if viewer is not None and viewer.has_perm(roles.VIEW_SENSITIVE):
        record_access(
            user=viewer,
            action=AccessAction.VIEW_SENSITIVE,
            member=member,
            request=request,
            detail=str(field_label),
        )
        return f"{value:,}" if isinstance(value, int) else str(value)
    return mask(value)


def _origin(request) -> tuple[str | None, str]:
    """Client address and the path without its query string: admin URLs carry search terms
    (``?q=``, ``_changelist_filters``), which must never reach the access log."""
    if request is None:
        return None, ""
    return request.META.get("REMOTE_ADDR") or None, request.path[:300]


def record_access_bulk(*, user, action: str, members, request=None, detail: str = "") -> list[AccessLog]:
    """One access-log row per member in a single INSERT (an export of many members)."""
    ip, path = _origin(request)
    rows = [
        AccessLog(
            member=member,
            user=user,
            action=AccessAction(action),
            ip_address=ip,
            path=path,
            detail=detail[:300],
        )
        for member in members
    ]
    return AccessLog.objects.bulk_create(rows)


def record_access_set(
    *,
    user,
    action: str,
    member_ids,
    request=None,
    detail: str = "",
    at: datetime | None = None,
    distinct: bool = True,
) -> int:
    """One access-log row per member of ``member_ids`` (a queryset of member ids) in one INSERT …
    SELECT, no row through Python; ``distinct=False`` where the ids are unique. See
    docs/postgresql.md, "One access-log row per member"."""
    ip, path = _origin(request)
    db = connections[member_ids.db]
    quote = db.ops.quote_name
    source, params = member_ids.query.sql_with_params()
    columns = ", ".join(
        quote(c) for c in ("member_id", "user_id", "action", "at", "ip_address", "path", "detail")
    )
    with db.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(AccessLog._meta.db_table)} ({columns}) "
            f"SELECT {'DISTINCT ' if distinct else ''}source.{quote(_only_column(member_ids))}, "
            "%s, %s, %s, %s, %s, %s "
            f"FROM ({source}) AS source",
            [
                user.pk,
                AccessAction(action).value,
                db.ops.adapt_datetimefield_value(at or timezone.now()),
                db.ops.adapt_ipaddressfield_value(ip),
                path,
                detail[:300],
                *params,
            ],
        )
        return cursor.rowcount


def _only_column(values_qs) -> str:
    (column,) = [col.target.column for col in values_qs.query.select]
    return column
