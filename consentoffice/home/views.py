"""The operator home (業務ホーム, ``/``) and the supervisors' dashboard (センター状況, ``/dashboard/``).

Both pages are read-only summaries in the admin's frame; the work itself happens on the admin
pages they link to. Reads come from ``home_selectors`` and ``dashboard_selectors``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from consentoffice.core import notifications as services
from consentoffice.core import roles
from consentoffice.home import charts
from consentoffice.home import dashboard as dashboard_selectors
from consentoffice.home import selectors as home_selectors
from members.filters import MemberSearchFilter
from members.models import Member
from members.services import record_search
from requests.presentation import home_rows_html, ticket_rows

HOME_PERMISSION = "requests.view_ticket"
SEARCH_PERMISSION = "members.view_member"
# The dashboard is for those who answer for the center: supervisors and the privacy officer, the
# roles that approve (four eyes). Operators get 403.
DASHBOARD_PERMISSION = roles.APPROVE_TICKET
SEARCH_LIMIT = 20


def _approval_rows(user, now) -> dict:
    """Supervisors' home leads with the approvals waiting; each row links to its approve step."""
    if not user.has_perm(roles.APPROVE_TICKET):
        return {"can_approve": False}
    waiting = home_selectors.approvals_waiting(user)
    rows = [
        {**row, "url": row["url"] + "#ticket-steps"}
        for row in ticket_rows(waiting[: home_selectors.HOME_LIST_LIMIT], now)
    ]
    return {
        "can_approve": True,
        "approval_rows": rows,
        "approval_rows_html": home_rows_html(rows),
        "approval_more": len(waiting) > len(rows),
    }


def _member_search(request) -> dict:
    search = MemberSearchFilter(request.GET or None, queryset=Member.objects.order_by("member_no"))
    context = {"search": search, "search_done": False, "search_results": [], "search_more": False}
    term = search.term
    if term is None:
        return context
    rows = list(search.qs[: SEARCH_LIMIT + 1])
    results = [
        {"member": member, "url": reverse("member_workspace", args=[member.member_no])}
        for member in rows[:SEARCH_LIMIT]
    ]
    more = len(rows) > SEARCH_LIMIT
    record_search(user=request.user, term=term, hits=len(results), more=more, via="home", request=request)
    context.update(search_done=True, search_results=results, search_more=more)
    return context


@require_GET
@login_required
@permission_required(HOME_PERMISSION, raise_exception=True)
def home(request):
    """業務ホーム: for supervisors first the approvals waiting; my tickets by deadline, unassigned
    tickets, notifications, and the member search."""
    user = request.user
    now = timezone.now()
    my_rows = ticket_rows(home_selectors.my_tickets(user), now)
    unassigned = ticket_rows(home_selectors.unassigned_tickets(user), now)
    context = {
        **admin.site.each_context(request),
        "title": _("業務ホーム"),
        "now": now,
        "my_rows": my_rows,
        "my_rows_html": home_rows_html(my_rows),
        "unassigned_rows": unassigned,
        "unassigned_rows_html": home_rows_html(unassigned),
        "counts": home_selectors.ticket_counts(user, now=now),
        "list_limit": home_selectors.HOME_LIST_LIMIT,
        "notifications": list(home_selectors.unread_notifications(user)[: home_selectors.NOTIFICATION_LIMIT]),
        "alerts": home_selectors.system_alerts(user),
        "can_search": user.has_perm(SEARCH_PERMISSION),
        "can_view_dashboard": user.has_perm(DASHBOARD_PERMISSION),
        **_approval_rows(user, now),
    }
    if context["can_search"]:
        context.update(_member_search(request))
    return TemplateResponse(request, "home/home.html", context)


@require_POST
@login_required
def notifications_read(request):
    """Mark one notification (``id``) or all of the user's unread notifications read."""
    raw = request.POST.get("id", "")
    ids = [int(raw)] if raw.isdigit() else None
    count = services.mark_notifications_read(actor=request.user, ids=ids)
    if count:
        messages.success(
            request,
            _("通知 %(count)d 件を既読にしました。") % {"count": count},
        )
    else:
        messages.info(request, _("既読にする通知はありませんでした。"))
    return redirect("home")


def _week_label(monday) -> str:
    return f"{monday.month}/{monday.day}"


def _dashboard_charts(weeks, batches, bureaus) -> dict:
    labels = [_week_label(w.start) for w in weeks]
    on_time, closed_requests = dashboard_selectors.on_time_totals(weeks)
    return {
        "flow": charts.bar_chart(
            chart_id="chart-flow",
            title=_("週ごとの受付件数と完了件数"),
            desc=_("直近%(weeks)d週間、月曜始まりの週ごと") % {"weeks": len(weeks)},
            labels=labels,
            series=[
                charts.Series(_("受付"), [w.received for w in weeks]),
                charts.Series(_("完了"), [w.closed for w in weeks]),
            ],
        ),
        "on_time_weekly": charts.line_chart(
            chart_id="chart-on-time-weekly",
            title=_("週ごとの法定期限内完了率"),
            desc=_("その週に完了した請求のうち期限（受付から14日）までに完了した割合"),
            labels=labels,
            values=[w.on_time_percent for w in weeks],
            width=460,
            height=180,
        ),
        "on_time": charts.donut(
            chart_id="chart-on-time",
            title=_("法定期限内に完了した請求の割合"),
            part=on_time,
            total=closed_requests,
            part_label=_("期限内"),
            rest_label=_("期限超過"),
        ),
        "bureaus": charts.bar_chart(
            chart_id="chart-bureaus",
            title=_("信用情報機関ごとの登録状況"),
            labels=[b.code for b in bureaus],
            series=[
                charts.Series(_("送信待ち"), [b.pending_count for b in bureaus]),
                charts.Series(_("結果待ち"), [b.batched_count for b in bureaus]),
                charts.Series(_("返却（要修正）"), [b.rejected_count for b in bureaus]),
            ],
            width=420,
        ),
        "batches": charts.bar_chart(
            chart_id="chart-batches",
            title=_("週ごとの登録ファイルの件数と返却件数"),
            labels=labels,
            series=[
                charts.Series(_("送信件数"), [b["records"] for b in batches]),
                charts.Series(_("返却件数"), [b["rejected"] for b in batches]),
            ],
        ),
        "on_time_count": on_time,
        "closed_requests": closed_requests,
    }


@require_GET
@login_required
@permission_required(DASHBOARD_PERMISSION, raise_exception=True)
def dashboard(request):
    """センター状況: the flow of tickets, deadlines, approvals, partner sync and bureau files."""
    now = timezone.now()
    figures = dashboard_selectors.center_figures(now=now)
    context = {
        **admin.site.each_context(request),
        "title": _("センター状況"),
        "now": now,
        "weeks": figures.weeks,
        "batches": figures.batches,
        "bureaus": figures.bureaus,
        "counted_at": figures.counted_at,
        "snapshot": figures.tickets,
        "sync": dashboard_selectors.partner_sync_snapshot(),
        "charts": _dashboard_charts(figures.weeks, figures.batches, figures.bureaus),
    }
    return TemplateResponse(request, "dashboard/dashboard.html", context)
