"""Tests of the information center (requests app) and small helpers they share."""

from __future__ import annotations

from requests import rules, services
from requests.models import Ticket


def open_request(kind: str, *, member, actor, **fields) -> Ticket:
    """A ticket received by phone now (or at ``received_at``)."""
    return services.open_ticket(kind=kind, member=member, channel=rules.Channel.PHONE, actor=actor, **fields)


def verified_request(kind: str, *, member, actor, **fields) -> Ticket:
    """A ticket whose requester showed a photo ID: in progress, ready for items and an outcome."""
    ticket = open_request(kind, member=member, actor=actor, **fields)
    services.verify_identity(ticket, actor=actor, method="driver_license")
    return ticket


def reasons(obj) -> list[str]:
    """The change reasons of an object's history rows, oldest first."""
    return list(
        obj.history.order_by("history_date", "history_id").values_list("history_change_reason", flat=True)
    )
