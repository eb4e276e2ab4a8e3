"""Deadline reminders for open requests (APPI Art. 39: 14 calendar days).

Due soon (≤ 3 days) → the assignee; overdue → the assignee and the supervisors; overdue for a
day or more → escalated once to supervisors and privacy officers. At most one reminder per
ticket, kind and day, however often beat fires and however many workers run: one run at a time
holds a lock row, and the unique constraint on ``Reminder`` backs it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection, send_mass_mail
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from consentoffice.core import roles
from consentoffice.core.history import copy_to_history, system_user
from consentoffice.core.i18n import record_text
from consentoffice.models import Heartbeat, Notification
from requests import rules
from requests.models import Reminder, Ticket

LOCK_NAME = "send_deadline_reminders"
ESCALATE_AFTER = timedelta(days=1)
BATCH = 2000

KIND_TO_NOTIFICATION = {
    Reminder.Kind.DUE_SOON: Notification.Kind.DUE_SOON,
    Reminder.Kind.OVERDUE: Notification.Kind.OVERDUE,
    Reminder.Kind.ESCALATION: Notification.Kind.ESCALATION,
}


@dataclass
class ReminderRun:
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    emails: int = 0
    skipped_locked: bool = False


def _role_user_ids(*role_names: str) -> list[int]:
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=role_names)
        .distinct()
        .values_list("id", flat=True)
    )


def _acquire_run_lock(now) -> bool:
    """One run at a time: lock a row with skip_locked; a concurrent run returns at once."""
    Heartbeat.objects.get_or_create(name=LOCK_NAME, defaults={"last_seen": now})
    row = Heartbeat.objects.select_for_update(skip_locked=True).filter(name=LOCK_NAME).first()
    if row is None:
        return False
    row.last_seen = now
    row.save(update_fields=["last_seen"])
    return True


def send_deadline_reminders(*, now=None) -> ReminderRun:
    now = now or timezone.now()
    today = timezone.localdate(now)
    run = ReminderRun()
    supervisors = _role_user_ids(roles.SUPERVISOR, roles.PRIVACY_OFFICER)
    officers = _role_user_ids(roles.PRIVACY_OFFICER)
    soon = now + timedelta(days=settings.REQUEST_DUE_SOON_DAYS)
    with transaction.atomic():
        if not _acquire_run_lock(now):
            run.skipped_locked = True
            return run
        open_requests = Ticket.objects.filter(status__in=rules.OPEN_STATUSES, kind__in=rules.REQUEST_KINDS)
        candidates = open_requests.filter(due_at__lte=soon).values_list(
            "id", "number", "due_at", "assignee_id", "escalated_at"
        )
        already = set(
            Reminder.objects.filter(
                sent_on=today, ticket__in=open_requests.filter(due_at__lte=soon)
            ).values_list("ticket_id", "kind")
        )
        reminder_rows: list[tuple] = []
        notification_rows: list[tuple] = []
        mail: dict[int, list[str]] = defaultdict(list)
        escalate_ids: list[int] = []
        due_texts: dict = {}
        for ticket_id, number, due, assignee_id, escalated_at in candidates.iterator(chunk_size=BATCH):
            overdue = now > due
            due_day = timezone.localtime(due).date()
            due_text = due_texts.get(due_day)
            if due_text is None:
                due_text = due_texts[due_day] = date_format(due_day, "DATE_FORMAT")
            wanted: list[tuple[str, list[int], str]] = []
            if overdue:
                owners = [assignee_id] if assignee_id else []
                wanted.append(
                    (
                        Reminder.Kind.OVERDUE,
                        sorted(set(owners + supervisors)),
                        _("期限超過: %(number)s（期限 %(due)s）") % {"number": number, "due": due_text},
                    )
                )
                if escalated_at is None and now - due >= ESCALATE_AFTER:
                    wanted.append(
                        (
                            Reminder.Kind.ESCALATION,
                            sorted(set(supervisors + officers)),
                            _("エスカレーション: %(number)s は期限を過ぎています") % {"number": number},
                        )
                    )
                    escalate_ids.append(ticket_id)
            else:
                recipients = [assignee_id] if assignee_id else supervisors
                wanted.append(
                    (
                        Reminder.Kind.DUE_SOON,
                        recipients,
                        _("期限間近: %(number)s（期限 %(due)s）") % {"number": number, "due": due_text},
                    )
                )
            for kind, recipients, title in wanted:
                if (ticket_id, kind) in already:
                    continue
                reminder_rows.append((ticket_id, str(kind), today, now, recipients))
                url = f"/admin/requests/ticket/{ticket_id}/change/"
                subject = (
                    f"{Ticket._meta.label_lower}:{ticket_id}"  # consentoffice.core.notifications.subject_of
                )
                notification_kind = str(KIND_TO_NOTIFICATION[kind])
                for user_id in recipients:
                    notification_rows.append((user_id, notification_kind, title, url, now, subject))
                    mail[user_id].append(title)
                run.created[kind] += 1
        _insert(Reminder, ("ticket_id", "kind", "sent_on", "sent_at", "recipients"), reminder_rows)
        _insert(Notification, ("user_id", "kind", "title", "url", "created_at", "subject"), notification_rows)
        if escalate_ids:
            _escalate(
                escalate_ids,
                now=now,
                actor=system_user(),
                reason=record_text("期限超過のためエスカレーション"),
            )
        transaction.on_commit(lambda: _send_mail(mail, run))
    return run


def _insert(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """Many rows at once: COPY on PostgreSQL (a run over 100,000 open tickets writes hundreds of
    thousands of notifications; per-row ORM preparation dominated the run), bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=BATCH
        )
        return
    json_columns = {
        n
        for n, name in enumerate(fields)
        if model._meta.get_field(name.removesuffix("_id")).get_internal_type() == "JSONField"
    }
    columns = ", ".join(
        connection.ops.quote_name(model._meta.get_field(name.removesuffix("_id")).column) for name in fields
    )
    lines = []
    for row in rows:
        values = (json.dumps(v) if n in json_columns else v for n, v in enumerate(row))
        lines.append("\t".join(_copy_text(v) for v in values) + "\n")
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for start in range(0, len(lines), 10_000):
            copy.write("".join(lines[start : start + 10_000]))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """One value in COPY's text format (NULL as \\N, special characters escaped)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _escalate(ticket_ids: list[int], *, now, actor, reason: str) -> None:
    """Mark tickets escalated and write their history rows with one UPDATE and one INSERT … SELECT
    (``consentoffice.core.history.copy_to_history``) per chunk, instead of a CASE-per-row bulk update and
    one history object per ticket."""
    for start in range(0, len(ticket_ids), BATCH):
        chunk = ticket_ids[start : start + BATCH]
        changed = list(
            Ticket.objects.filter(pk__in=chunk, escalated_at__isnull=True).values_list("pk", flat=True)
        )
        if not changed:
            continue
        Ticket.objects.filter(pk__in=changed).update(escalated_at=now)
        copy_to_history(Ticket.objects.filter(pk__in=changed), actor=actor, reason=reason)


def _send_mail(mail: dict[int, list[str]], run: ReminderRun) -> None:
    """One message per user listing their tickets (numbers and dates only, no personal data)."""
    users = get_user_model().objects.filter(pk__in=list(mail), is_active=True).exclude(email="")
    messages = []
    for user in users.only("id", "email"):
        lines = mail[user.pk]
        body = "\n".join(lines[:200])
        if len(lines) > 200:
            body += "\n" + _("ほか %(count)d 件") % {"count": len(lines) - 200}
        messages.append(
            (
                _("[consentoffice] 受付票の期限のお知らせ（%(count)d件）") % {"count": len(lines)},
                body,
                settings.DEFAULT_FROM_EMAIL,
                [user.email],
            )
        )
    if messages:
        run.emails = send_mass_mail(messages, fail_silently=False, connection=get_connection())
