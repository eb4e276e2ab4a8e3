"""Deadline reminders for open requests (APPI Art. 39: 14 calendar days).

Due soon (≤ 3 days) → the assignee; overdue → the assignee and the supervisors; overdue for a
day or more → escalated once to supervisors and privacy officers. At most one reminder per
ticket, kind and day, however often beat fires and however many workers run: one run at a time
holds a lock row, and the unique constraint on ``Reminder`` backs it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import get_connection, send_mass_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from consentoffice import roles
from consentoffice.audit import system_user
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
        reminders: list[Reminder] = []
        notifications: list[Notification] = []
        mail: dict[int, list[str]] = defaultdict(list)
        escalate_ids: list[int] = []
        for ticket_id, number, due, assignee_id, escalated_at in candidates.iterator(chunk_size=BATCH):
            overdue = now > due
            due_text = timezone.localtime(due).strftime("%Y-%m-%d")
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
                reminders.append(
                    Reminder(
                        ticket_id=ticket_id, kind=kind, sent_on=today, sent_at=now, recipients=recipients
                    )
                )
                url = f"/admin/requests/ticket/{ticket_id}/change/"
                for user_id in recipients:
                    notifications.append(
                        Notification(user_id=user_id, kind=KIND_TO_NOTIFICATION[kind], title=title, url=url)
                    )
                    mail[user_id].append(title)
                run.created[kind] += 1
        Reminder.objects.bulk_create(reminders, batch_size=BATCH)
        Notification.objects.bulk_create(notifications, batch_size=BATCH)
        if escalate_ids:
            escalated = list(Ticket.objects.filter(pk__in=escalate_ids, escalated_at__isnull=True))
            for ticket in escalated:
                ticket.escalated_at = now
            bulk_update_with_history(
                escalated,
                Ticket,
                ["escalated_at"],
                batch_size=BATCH,
                default_user=system_user(),
                default_change_reason=_("期限超過のためエスカレーション"),
            )
        transaction.on_commit(lambda: _send_mail(mail, run))
    return run


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
