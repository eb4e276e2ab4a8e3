"""The audit lists' rows written out in Python, each value through ``escape``, as the queues' rows
are (``requests.presentation.queue_rows_html``): a page of 50 rows through the template engine — a
lookup, a filter and an escape per cell, an include per member — cost more than reading the page
from the 27 history tables."""

from __future__ import annotations

from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from consentoffice.audit.selectors import AuditRow
from consentoffice.core.converters import member_url_maker

WHEN_FORMAT = "Y年n月j日 H:i:s"
KIND_CLASSES = {"+": "audit-kind-plus", "-": "audit-kind-minus"}


def when(row: AuditRow) -> str:
    return format_date(timezone.localtime(row.at), WHEN_FORMAT)


def member_links_html(member_no: str, workspace_url: str, timeline_url: str) -> SafeString:
    """The member's number to their workspace, and a link to their audit timeline."""
    title = _("会員番号 %(member_no)s の監査タイムライン") % {"member_no": member_no}
    label = _("履歴")
    return mark_safe(  # every value is escaped
        f'<a href="{escape(workspace_url)}">{escape(member_no)}</a> '
        f'<a href="{escape(timeline_url)}" class="audit-timeline-link" title="{escape(title)}">'
        f"{escape(label)}</a>"
    )


def member_links_for(member_no: str) -> SafeString:
    """``member_links_html`` for one member, its URLs made as the list rows' are
    (``selectors.linked``)."""
    workspace, timeline = member_url_maker("member_workspace"), member_url_maker("audit:timeline")
    return member_links_html(member_no, workspace(member_no), timeline(member_no))


def _member_cell(row: AuditRow, links: bool) -> str:
    if row.member_no and links:
        return member_links_html(row.member_no, row.workspace_url, row.timeline_url)
    return escape(row.member_no)


def history_rows_html(rows: list[AuditRow], *, member_links: bool) -> SafeString:
    """The ``<tr>`` of each row of the history list or a timeline: date, object, kind, user,
    member (with links on the history list), reason, the link to the change."""
    changes = escape(_("変更内容"))
    lines = []
    for row in rows:
        kind_class = KIND_CLASSES.get(row.kind, "")
        detail = "" if row.is_access else f'<a href="{escape(row.detail_url)}">{changes}</a>'
        lines.append(
            f"<tr><td>{escape(when(row))}</td>"
            f"<td>{escape(row.object_label)}</td>"
            f'<td class="{kind_class}">{escape(row.kind_label)}</td>'
            f"<td>{escape(row.user_label)}</td>"
            f"<td>{_member_cell(row, member_links)}</td>"
            f"<td>{escape(row.reason_display)}</td>"
            f"<td>{detail}</td></tr>"
        )
    return mark_safe("\n".join(lines))  # every value above is escaped


def access_rows_html(rows: list[AuditRow]) -> SafeString:
    """The ``<tr>`` of each access-log row: date, action, user, member with links, detail."""
    lines = [
        f"<tr><td>{escape(when(row))}</td>"
        f"<td>{escape(row.kind_label)}</td>"
        f"<td>{escape(row.user_label)}</td>"
        f"<td>{_member_cell(row, True)}</td>"
        f"<td>{escape(row.reason_display)}</td></tr>"
        for row in rows
    ]
    return mark_safe("\n".join(lines))  # every value above is escaped
