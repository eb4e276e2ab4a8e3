"""The timeline of one ticket: its history and its items' and packages' history, oldest first.

At most two queries whatever the ticket's length (the ticket's history, and the history of the
records its kind may hold — ``rules.may_hold``; users joined), so the ticket page stays cheap. It reads simple-history rows only; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consentoffice.core.people import display_name
from requests import rules
from requests.forms import correction_field_label, deletion_target_label
from requests.models import CorrectionItem, DeletionItem, DisclosurePackage, Ticket

HISTORY_TYPE_LABELS = {"+": gettext_lazy("作成"), "~": gettext_lazy("変更"), "-": gettext_lazy("削除")}
_STATUS_LABELS = dict(rules.STATUS_CHOICES)
_OUTCOME_LABELS = dict(rules.OUTCOME_CHOICES)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    user: str
    subject: str
    action: str
    detail: str
    reason: str
    sort_key: tuple


def _user_label(row) -> str:
    user = row.history_user
    if user is None:
        return _("（不明）")
    return display_name(user)


def _ticket_detail(row, previous) -> str:
    parts = []
    if previous is None or previous.status != row.status:
        before = _STATUS_LABELS.get(previous.status, "") if previous else ""
        after = _STATUS_LABELS.get(row.status, row.status)
        parts.append(
            _("状態: %(before)s → %(after)s") % {"before": before, "after": after} if before else after
        )
    if row.outcome and (previous is None or previous.outcome != row.outcome):
        parts.append(_("結果: %(outcome)s") % {"outcome": _OUTCOME_LABELS.get(row.outcome, row.outcome)})
    if previous is not None and previous.on_hold != row.on_hold:
        parts.append(_("保留中") if row.on_hold else _("保留解除"))
    if previous is not None and previous.assignee_id != row.assignee_id:
        parts.append(_("担当者を変更"))
    return " / ".join(str(p) for p in parts)


def _entries(rows, *, subject, detail) -> list[TimelineEntry]:
    """Rows of one history table, each compared with the previous row of the same object."""
    previous_by_id: dict[int, object] = {}
    entries = []
    for row in sorted(rows, key=lambda r: (r.history_date, r.history_id)):
        previous = previous_by_id.get(row.id)
        entries.append(
            TimelineEntry(
                at=row.history_date,
                user=_user_label(row),
                subject=subject(row),
                action=str(HISTORY_TYPE_LABELS.get(row.history_type, row.history_type)),
                detail=detail(row, previous),
                reason=row.history_change_reason or "",
                sort_key=(row.history_date, row.history_id),
            )
        )
        previous_by_id[row.id] = row
    return entries


def ticket_timeline(ticket: Ticket) -> list[TimelineEntry]:
    """Every recorded change of the ticket, its correction/deletion items and packages, by time."""
    ticket_rows = Ticket.history.filter(id=ticket.pk).select_related("history_user")

    def held_rows(model, records: str):
        # Only the kind that may hold these records has their history (rules.may_hold).
        if not rules.may_hold(ticket.kind, records):
            return []
        return model.history.filter(ticket_id=ticket.pk).select_related("history_user")

    correction_rows = held_rows(CorrectionItem, "correction_items")
    deletion_rows = held_rows(DeletionItem, "deletion_items")
    package_rows = held_rows(DisclosurePackage, "packages")
    correction_decisions = dict(CorrectionItem.Decision.choices)
    deletion_decisions = dict(DeletionItem.Decision.choices)

    entries = [
        *_entries(ticket_rows, subject=lambda r: _("受付票"), detail=_ticket_detail),
        *_entries(
            correction_rows,
            subject=lambda r: _("訂正項目: %(field)s") % {"field": correction_field_label(r.field)},
            detail=lambda r, p: str(correction_decisions.get(r.decision, r.decision)),
        ),
        *_entries(
            deletion_rows,
            subject=lambda r: _("削除項目: %(target)s") % {"target": deletion_target_label(r.target)},
            detail=lambda r, p: str(deletion_decisions.get(r.decision, r.decision)),
        ),
        *_entries(
            package_rows,
            subject=lambda r: _("開示パッケージ"),
            detail=lambda r, p: (
                _("交付済み") if r.delivered_at else _("SHA-256 %(digest)s…") % {"digest": r.sha256[:12]}
            ),
        ),
    ]
    return sorted(entries, key=lambda e: e.sort_key)
