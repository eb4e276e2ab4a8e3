"""Supervisors' audit pages (監査証跡): history list, diff, member timeline, access log, CSV exports.

Read-only by construction: only GET is answered and nothing here writes except the access log
(every look at a member's data and every export is recorded through ``record_access``).
Supervisors and the privacy officer hold ``roles.VIEW_AUDIT``; operators get 403, anonymous
users the login page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.contrib import admin
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView, View

from consentoffice.audit.filters import AccessLogFilter, HistoryFilter, TimelineFilter
from consentoffice.audit.presentation import access_rows_html, history_rows_html, member_links_for
from consentoffice.audit.selectors import (
    EXPORT_CHUNK,
    HISTORY_TYPE_LABELS,
    PAGE_SIZE,
    AuditRow,
    Cursor,
    Page,
    access_log_page,
    history_diff,
    history_page,
    member_by_no,
    timeline_page,
    tracked_by_label,
    tracked_models,
    walk,
)
from consentoffice.core import roles
from consentoffice.core.csv_export import csv_lines
from members.models import AccessAction, AccessLog
from members.services import record_access

EMPTY = Page(rows=[], next_cursor=None)


@method_decorator(require_GET, name="dispatch")
class AuditAccessMixin(PermissionRequiredMixin):
    """Anonymous users go to the login page; signed-in users without the permission get 403."""

    permission_required = roles.VIEW_AUDIT

    def admin_context(self) -> dict:
        return {**admin.site.each_context(self.request), "is_nav_sidebar_enabled": False}


def _query_without(request, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _query_with(request, **values: str) -> str:
    query = request.GET.copy()
    for name, value in values.items():
        query[name] = value
    return query.urlencode()


def _history_filter(request) -> HistoryFilter:
    return HistoryFilter(request.GET, queryset=tracked_models()[0].history.objects.none(), request=request)


def _history_fetcher(filterset: HistoryFilter) -> Callable[..., Page]:
    """``fetch(cursor, limit=...)`` for the filtered history; an invalid filter finds nothing."""
    if not filterset.is_valid() or filterset.member_not_found:
        return lambda cursor, limit=PAGE_SIZE: EMPTY
    member = filterset.member

    def fetch(cursor: Cursor | None, limit: int = PAGE_SIZE) -> Page:
        return history_page(
            branches=filterset.branches(),
            filters=filterset,
            member_id=member.pk if member else None,
            user_id=filterset.user_id,
            cursor=cursor,
            limit=limit,
        )

    return fetch


class ListPage(AuditAccessMixin, TemplateView):
    """A keyset-paginated audit list: ``?after=<cursor>`` moves on, nothing counts the rows."""

    def page_context(self, page: Page, rows_html: str, **extra) -> dict:
        base = _query_without(self.request, "after")
        return {
            **self.admin_context(),
            "page": page,
            "rows": page.rows,
            "rows_html": rows_html,
            "next_query": _query_with(self.request, after=page.next_cursor.encode())
            if page.next_cursor
            else "",
            "first_query": base,
            "is_first_page": "after" not in self.request.GET,
            "filter_query": base,
            **extra,
        }


def _log_member_search(request, filterset, detail: str) -> None:
    """A list narrowed to one member is a search of that member's data: logged as such."""
    if filterset.member is not None:
        record_access(
            user=request.user,
            action=AccessAction.SEARCH,
            member=filterset.member,
            request=request,
            detail=detail,
        )


class HistoryListView(ListPage):
    template_name = "audit/history_list.html"

    def get_context_data(self, **kwargs):
        filterset = _history_filter(self.request)
        page = _history_fetcher(filterset)(Cursor.decode(self.request.GET.get("after")))
        _log_member_search(self.request, filterset, "audit history")
        return self.page_context(
            page,
            history_rows_html(page.rows, member_links=True),
            filter=filterset,
            title=_("監査証跡（変更履歴）"),
        )


class HistoryDetailView(AuditAccessMixin, TemplateView):
    template_name = "audit/history_detail.html"

    def get_context_data(self, label: str, history_id: int, **kwargs):
        tracked = tracked_by_label(label)
        if tracked is None:
            raise Http404
        try:
            diff = history_diff(tracked, history_id, viewer=self.request.user)
        except tracked.history.DoesNotExist as exc:
            raise Http404 from exc
        record_access(
            user=self.request.user,
            action=AccessAction.VIEW,
            member=diff.member,
            request=self.request,
            detail=f"audit {label} {history_id}",
        )
        if not diff.masked and any(c.sensitive and (c.before or c.after) for c in diff.changes):
            record_access(
                user=self.request.user,
                action=AccessAction.VIEW_SENSITIVE,
                member=diff.member,
                request=self.request,
                detail=f"audit {label} {history_id}",
            )
        return {
            **self.admin_context(),
            "diff": diff,
            "member_links": member_links_for(diff.member.member_no) if diff.member else "",
            "row": diff.row,
            "object_id": getattr(diff.row, tracked.pk_attname),
            "kind_label": HISTORY_TYPE_LABELS.get(diff.row.history_type, diff.row.history_type),
            "title": _("変更内容"),
        }


class TimelineView(ListPage):
    template_name = "audit/timeline.html"

    def get_context_data(self, member_no: str, **kwargs):
        member = member_by_no(member_no)
        if member is None:
            raise Http404
        filterset = TimelineFilter(self.request.GET, queryset=AccessLog.objects.none())
        record_access(
            user=self.request.user,
            action=AccessAction.VIEW,
            member=member,
            request=self.request,
            detail="audit timeline",
        )
        if not filterset.is_valid():
            page = EMPTY
        else:
            page = timeline_page(
                member,
                filters=filterset,
                cursor=Cursor.decode(self.request.GET.get("after")),
            )
        return self.page_context(
            page,
            history_rows_html(page.rows, member_links=False),
            member=member,
            filter=filterset,
            title=_("会員別タイムライン %(no)s") % {"no": member.member_no},
        )


class AccessLogListView(ListPage):
    template_name = "audit/access_list.html"

    def get_context_data(self, **kwargs):
        filterset = AccessLogFilter(self.request.GET, queryset=AccessLog.objects.all(), request=self.request)
        if not filterset.is_valid():
            page = EMPTY
        else:
            page = access_log_page(filterset.qs, cursor=Cursor.decode(self.request.GET.get("after")))
        _log_member_search(self.request, filterset, "audit access log")
        return self.page_context(page, access_rows_html(page.rows), filter=filterset, title=_("アクセス記録"))


# --- CSV exports -------------------------------------------------------------------------------


def _csv_response(filename: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_row(row: AuditRow) -> list:
    return [
        timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M:%S"),
        row.model_name,
        row.label,
        row.object_id or "",
        row.id,
        row.kind,
        row.kind_label,
        row.user.get_username() if row.user else "",
        row.member_no,
        row.reason,
        row.ref,  # last, so the columns before it keep their places
    ]


def _csv_header() -> list[str]:
    return [
        _("日時"),
        _("対象"),
        _("モデル"),
        _("対象ID"),
        _("履歴ID"),
        _("種別コード"),
        _("種別"),
        _("利用者"),
        _("会員番号"),
        _("理由・詳細"),
        _("番号・コード"),
    ]


class HistoryExportView(AuditAccessMixin, View):
    def get(self, request):
        filterset = _history_filter(request)
        fetch = _history_fetcher(filterset)
        record_access(
            user=request.user,
            action=AccessAction.EXPORT,
            member=filterset.member,
            request=request,
            detail="audit history csv",
        )
        rows = walk(lambda cursor: fetch(cursor, limit=EXPORT_CHUNK))
        return _csv_response("audit-history.csv", _csv_header(), (_csv_row(r) for r in rows))


class TimelineExportView(AuditAccessMixin, View):
    def get(self, request, member_no: str):
        member = member_by_no(member_no)
        if member is None:
            raise Http404
        filterset = TimelineFilter(request.GET, queryset=AccessLog.objects.none())
        record_access(
            user=request.user,
            action=AccessAction.EXPORT,
            member=member,
            request=request,
            detail="audit timeline csv",
        )
        if not filterset.is_valid():
            rows: Iterable[AuditRow] = []
        else:
            rows = walk(
                lambda cursor: timeline_page(member, filters=filterset, cursor=cursor, limit=EXPORT_CHUNK)
            )
        return _csv_response(
            f"audit-timeline-{member.member_no}.csv", _csv_header(), (_csv_row(r) for r in rows)
        )


class AccessLogExportView(AuditAccessMixin, View):
    def get(self, request):
        filterset = AccessLogFilter(request.GET, queryset=AccessLog.objects.all(), request=request)
        valid = filterset.is_valid()
        record_access(
            user=request.user,
            action=AccessAction.EXPORT,
            member=filterset.member,
            request=request,
            detail="audit access csv",
        )
        rows = (
            walk(lambda cursor: access_log_page(filterset.qs, cursor=cursor, limit=EXPORT_CHUNK))
            if valid
            else []
        )
        return _csv_response("audit-access.csv", _csv_header(), (_csv_row(r) for r in rows))
