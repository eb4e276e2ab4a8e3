"""Writes of the back-office's own operational state (notifications)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from consentoffice.models import Notification


def mark_notifications_read(*, actor, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's unread notifications read (all of them, or those in ``ids``).

    Only the actor's own notifications are touched, whatever ids are sent. Returns how many changed.
    """
    with transaction.atomic():
        unread = Notification.objects.filter(user=actor, read_at__isnull=True)
        if ids is not None:
            unread = unread.filter(pk__in=list(ids))
        return unread.update(read_at=timezone.now())


def notify_roles(
    *, kind: str, title: str, role_names: Iterable[str], url: str = "", subject: str = ""
) -> int:
    """One notification for every active user holding any of ``role_names`` (the home page lists them).

    Titles carry counts, numbers and links only, never personal data. Returns how many were created.
    """
    user_ids = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=list(role_names))
        .distinct()
        .values_list("id", flat=True)
    )
    return notify_users(kind=kind, title=title, user_ids=user_ids, url=url, subject=subject)


def notify_users(*, kind: str, title: str, user_ids: Iterable[int], url: str = "", subject: str = "") -> int:
    """One notification for each of ``user_ids`` (a preparer told of an approval, say); titles as
    for ``notify_roles``. Returns how many were created."""
    rows = [
        Notification(user_id=user_id, kind=kind, title=str(title)[:200], url=url, subject=subject)
        for user_id in user_ids
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)


def subject_of(obj) -> str:
    """The ``Notification.subject`` of notices about ``obj``."""
    return f"{obj._meta.label_lower}:{obj.pk}"


def settle_notifications(obj, *, at=None) -> int:
    """Put away the unread notices about ``obj`` (marked read), for everyone: what they asked for
    is done (a closed ticket needs no deadline reminder). Returns how many."""
    return Notification.objects.filter(subject=subject_of(obj), read_at__isnull=True).update(
        read_at=at or timezone.now()
    )
