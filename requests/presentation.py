"""How a ticket reads in the lists and on its page: deadline badges, status with the time held, the
member, the duplicate flag, and ``ticket_rows`` (the rows of a queue, the operator home, the workspace)."""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consentoffice.core.converters import id_url_maker, member_url_maker
from requests.models import Ticket

DUE_STATE_LABELS = {
    "overdue": gettext_lazy("期限超過"),
    "due_soon": gettext_lazy("期限間近"),
    "ok": gettext_lazy("期限内"),
}
DUE_STATE_CSS = {"overdue": "due-overdue", "due_soon": "due-soon", "ok": "due-ok"}


def format_duration(seconds: int) -> str:
    """``2日3時間`` / ``45分``: how long a ticket has been held."""
    minutes = max(int(seconds), 0) // 60
    days, rest = divmod(minutes, 60 * 24)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(days)d日%(hours)d時間") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d時間%(minutes)d分") % {"hours": hours, "minutes": mins}
    return _("%(minutes)d分") % {"minutes": mins}


def remaining_label(ticket: Ticket, now) -> str:
    """``残り5日`` / ``3日超過`` / ``本日期限`` for an open request; empty otherwise."""
    return _remaining(ticket, now, due_day=_local_day(ticket.due_at), today=_local_day(now))


def _local_day(moment) -> date:
    return timezone.localtime(moment).date()


def _remaining(ticket: Ticket, now, *, due_day: date, today: date) -> str:
    if not (ticket.is_open and ticket.is_request):
        return ""
    days = (due_day - today).days
    if days > 0:
        return _("残り%(days)d日") % {"days": days}
    if days == 0:
        return _("本日期限") if now <= ticket.due_at else _("期限超過")
    return _("%(days)d日超過") % {"days": -days}


def due_badge(ticket: Ticket, now) -> str:
    state = ticket.due_state(now)
    when = date_format(_local_day(ticket.due_at), "DATE_FORMAT")
    return _badge(state, DUE_STATE_LABELS[state], when, remaining_label(ticket, now))


def _badge(state: str, title, when: str, label: str) -> str:
    return format_html(
        '<span class="due-badge {}" title="{}">{}{}</span>',
        DUE_STATE_CSS[state],
        title,
        when,
        f" ({label})" if label else "",
    )


def status_text(ticket: Ticket, now, *, label: str | None = None) -> str:
    """The status (``label`` if the caller has it already) and, while on hold, for how long."""
    text = ticket.get_status_display() if label is None else label
    if ticket.on_hold:
        return format_html(
            '{} <span class="ticket-hold">{}</span>',
            text,
            _("保留中 %(held)s") % {"held": format_duration(ticket.held_total_seconds(now))},
        )
    return text


def member_text(ticket: Ticket) -> str:
    member = ticket.member
    if member is None:
        return "—"
    return f"{member.member_no} {member.full_name}"


def member_url(ticket: Ticket) -> str:
    """The member workspace of the ticket's member ("" for an inquiry without a member)."""
    if ticket.member is None:
        return ""
    return reverse("member_workspace", args=[ticket.member.member_no])


def member_link(ticket: Ticket) -> str:
    """The member as a link to their workspace (the ticket page)."""
    url = member_url(ticket)
    return (
        format_html('<a href="{}" id="ticket-member-link">{}</a>', url, member_text(ticket)) if url else "—"
    )


def duplicate_flag(ticket: Ticket) -> str:
    if getattr(ticket, "has_duplicate", False):
        return format_html(
            '<span class="ticket-duplicate" title="{}">⚠</span>',
            _("同じ会員・同じ種別の未完了の受付票が他にあります"),
        )
    return ""


def ticket_rows(tickets, now) -> list[dict]:
    """The tickets as the lists show them (the queues, the operator home, the workspace): link,
    member, status and deadline, both as a finished badge and in parts.

    What is the same for every row — the URLs' frame, the labels, each deadline's date — is
    worked out once per list: row by row it was half of a queue page's time."""
    today = _local_day(now)
    change_url = id_url_maker("admin:requests_ticket_change")
    workspace_url = member_url_maker("member_workspace")
    statuses, kinds = _labels("status"), _labels("kind")
    due_labels = {state: str(label) for state, label in DUE_STATE_LABELS.items()}
    dates: dict[date, str] = {}
    rows = []
    for ticket in tickets:
        state = ticket.due_state(now)
        due_day = _local_day(ticket.due_at)
        if due_day not in dates:
            dates[due_day] = date_format(due_day, "DATE_FORMAT")
        remaining = _remaining(ticket, now, due_day=due_day, today=today)
        rows.append(
            {
                "ticket": ticket,
                "url": change_url(ticket.pk),
                "kind": kinds.get(ticket.kind, ticket.kind),
                "member": member_text(ticket),
                "member_url": workspace_url(ticket.member.member_no) if ticket.member else "",
                "status": status_text(ticket, now, label=statuses.get(ticket.status, ticket.status)),
                "due": _badge(state, due_labels[state], dates[due_day], remaining),
                "due_date": dates[due_day],
                "duplicate": duplicate_flag(ticket),
                "due_state": state,
                "due_css": DUE_STATE_CSS[state],
                "due_label": due_labels[state],
                "remaining": remaining,
            }
        )
    return rows


def _labels(field: str) -> dict[str, str]:
    """A choice field's labels in the active language, resolved once for a whole list."""
    return {value: str(label) for value, label in Ticket._meta.get_field(field).flatchoices}


def _member_cell(row: dict) -> str:
    """The member of a written row, a link to the workspace where there is one (escaped)."""
    member = escape(row["member"])
    return f'<a href="{escape(row["member_url"])}">{member}</a>' if row["member_url"] else member


# The queue's rows are written out here (each value through Django's ``escape``; the status, badge
# and flag are already safe HTML): a page of rows through the template engine — a lookup, a filter
# or an escape per cell — was a third of the queue page's time.
def queue_rows_html(rows: list[dict]) -> str:
    """The ``<tr>`` of each ``ticket_rows`` row in the queue's columns: number, kind, member,
    status, assignee, received, legal deadline, duplicate."""
    lines = []
    for row in rows:
        ticket = row["ticket"]
        received = date_format(timezone.localtime(ticket.received_at), "DATETIME_FORMAT")
        assignee = str(ticket.assignee) if ticket.assignee_id else "—"
        lines.append(
            f'<tr><th scope="row"><a href="{escape(row["url"])}">{escape(ticket.number)}</a></th>'
            f"<td>{escape(row['kind'])}</td>"
            f'<td class="ticket-member">{_member_cell(row)}</td>'
            f"<td>{conditional_escape(row['status'])}</td>"
            f"<td>{escape(assignee)}</td>"
            f"<td>{escape(received)}</td>"
            f"<td>{conditional_escape(row['due'])}</td>"
            f"<td>{conditional_escape(row['duplicate'])}</td></tr>"
        )
    return mark_safe("\n".join(lines))  # every value above is escaped


def home_rows_html(rows: list[dict]) -> str:
    """The ``<tr>`` of each ``ticket_rows`` row in the operator home's columns (number, kind with
    the duplicate flag, member, status, legal deadline), written out like ``queue_rows_html``."""
    no_deadline = escape(_("期限なし"))
    lines = []
    for row in rows:
        ticket = row["ticket"]
        number = escape(ticket.number)
        state = escape(row["due_state"])
        if ticket.is_request:
            due = f'<span class="due-badge {escape(row["due_css"])}">{escape(row["due_date"])}</span>'
            if row["due_state"] != "ok":
                due += f" <strong>{escape(row['due_label'])}</strong>"
            if row["remaining"]:
                due += f' <span class="due-remaining">（{escape(row["remaining"])}）</span>'
        else:
            due = f'<span class="home-empty">{no_deadline}</span>'
        duplicate = f" {conditional_escape(row['duplicate'])}" if row["duplicate"] else ""
        lines.append(
            f'<tr class="row-{state}" data-ticket="{number}" data-due-state="{state}">'
            f'<th scope="row"><a href="{escape(row["url"])}">{number}</a></th>'
            f'<td class="nowrap">{escape(row["kind"])}{duplicate}</td>'
            f"<td>{_member_cell(row)}</td>"
            f'<td class="nowrap">{conditional_escape(row["status"])}</td>'
            f"<td>{due}</td></tr>"
        )
    return mark_safe("\n".join(lines))  # every value above is escaped
