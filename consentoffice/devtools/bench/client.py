"""Who and what a run measures with: the role users (``seed_bulk``'s bulk users when present),
the typical and the heaviest member, and test clients logged in with the second factor done."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from consentoffice.devtools.bench.report import BUREAU_RECORDS, REMINDER_OPEN_TICKETS
from members.models import Member


@dataclass
class Context:
    runs: int
    operator: object
    supervisor: object
    supervisor2: object
    member: Member | None
    heaviest: Member | None
    bureau_records: int = BUREAU_RECORDS
    sync_events: int = 2000
    reminder_tickets: int = REMINDER_OPEN_TICKETS


def role_user(role: str, *, prefer: str = "", exclude: int | None = None):
    User = get_user_model()
    users = User.objects.filter(is_active=True, is_staff=True, groups__name=role).order_by("username")
    if exclude:
        users = users.exclude(pk=exclude)
    return (users.filter(username__startswith=prefer).first() if prefer else None) or users.first()


def heaviest_member() -> Member | None:
    """The member with the most contracts, then the most tickets (what a disclosure must gather)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT member_id FROM members_contract GROUP BY member_id ORDER BY COUNT(*) DESC, member_id LIMIT 1"
        )
        row = cursor.fetchone()
    return Member.objects.filter(pk=row[0]).first() if row else Member.objects.order_by("pk").first()


def typical_member() -> Member | None:
    """A member in the middle of the id range (not one a cache would have warm by chance)."""
    first = Member.objects.order_by("pk").values_list("pk", flat=True).first()
    last = Member.objects.order_by("-pk").values_list("pk", flat=True).first()
    if first is None:
        return None
    return Member.objects.filter(pk__gte=(first + last) // 2).order_by("pk").first()


def logged_in(user) -> Client:
    """A client logged in as ``user``; a role that needs the second factor gets its session marked
    verified with the user's device (a bench device is added, inside the rolled-back transaction,
    when the user has none) — the state the code page leaves after a right code."""
    client = Client()
    client.force_login(user)
    from django_otp import DEVICE_ID_SESSION_KEY

    from consentoffice.accounts.twofactor import confirmed_device, create_confirmed_device

    device = confirmed_device(user) or create_confirmed_device(user, name="bench")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
