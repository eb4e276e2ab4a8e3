"""Tests of the operator home and the supervisors' dashboard (pages outside the admin)."""

from __future__ import annotations

from datetime import datetime

from requests import rules, services
from requests.models import Ticket


def login(client, user) -> None:
    """Role users work in the admin, so they are staff accounts (as seed_demo creates them)."""
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    client.force_login(user)


def assert_for_role_users_only(client, url: str, nobody) -> None:
    """Anonymous visitors go to the admin login (coming back to ``url``); a user without a role gets 403."""
    from django.urls import reverse

    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"
    login(client, nobody)
    assert client.get(url).status_code == 403


def ticket(kind: str, *, member, actor, received_at: datetime | None = None, assignee=None) -> Ticket:
    """A ticket received by phone (now or at ``received_at``), assigned to ``assignee`` or the actor."""
    return services.open_ticket(
        kind=kind,
        member=member,
        channel=rules.Channel.PHONE,
        actor=actor,
        received_at=received_at,
        assignee=assignee,
    )


def unassigned(kind: str, *, member, actor, received_at: datetime | None = None) -> Ticket:
    opened = ticket(kind, member=member, actor=actor, received_at=received_at)
    return services.assign(opened, actor=actor, assignee=None)
