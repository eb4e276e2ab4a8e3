"""What the information center holds of a member, for keeping and erasure (clause Art. 7).

Registered with ``members.keeping`` from ``RequestsConfig.ready`` (members cannot import requests):
an open request of the member holds erasure (its data is needed to answer it), and anonymizing a
member erases the request texts, the correction values and the disclosure files on disk. The
ticket itself (number, kind, dates, outcome) and the package's manifest and SHA-256 stay as the
record of what was asked and answered.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from consentoffice.core.history import amend_history, save_tracked
from members.models import Member
from members.services import ERASED_TEXT
from requests import rules
from requests.disclosure import delete_package_files
from requests.models import CorrectionItem, DisclosurePackage, Ticket

TICKET_TEXTS = {"summary": ERASED_TEXT, "agent_name": "", "outcome_reason": "", "hold_reason": ""}
CORRECTION_VALUES = {"current_value": ERASED_TEXT, "requested_value": ERASED_TEXT}


def open_request_hold() -> Exists:
    """An open request (APPI Art. 33–35) of the member: erasing now would defeat the answer."""
    return Exists(
        Ticket.objects.filter(
            member=OuterRef("pk"), kind__in=rules.REQUEST_KINDS, status__in=rules.OPEN_STATUSES
        )
    )


def _not_erased(values: dict[str, str]) -> Q:
    held = Q(pk__in=[])
    for field, value in values.items():
        held |= ~Q(**{field: value})
    return held


def erase_request_traces(member: Member, *, actor, reason: str) -> int:
    """Erase ticket texts, correction values (with their history) and disclosure files."""
    count = 0
    for item in (
        CorrectionItem.objects.select_for_update()
        .filter(ticket__member=member)
        .filter(_not_erased(CORRECTION_VALUES))
    ):
        for field, value in CORRECTION_VALUES.items():
            setattr(item, field, value)
        save_tracked(item, actor=actor, reason=reason, clean=False)
        count += 1
    amend_history(
        CorrectionItem.history.model.objects.filter(ticket__member_id=member.pk).filter(
            _not_erased(CORRECTION_VALUES)
        ),
        actor=actor,
        reason=reason,
        **CORRECTION_VALUES,
    )
    for ticket in Ticket.objects.select_for_update().filter(member=member).filter(_not_erased(TICKET_TEXTS)):
        for field, value in TICKET_TEXTS.items():
            setattr(ticket, field, value)
        save_tracked(ticket, actor=actor, reason=reason, clean=False)
        count += 1
    amend_history(
        Ticket.history.model.objects.filter(member_id=member.pk).filter(_not_erased(TICKET_TEXTS)),
        actor=actor,
        reason=reason,
        **TICKET_TEXTS,
    )
    count += delete_package_files(DisclosurePackage.objects.filter(ticket__member=member))
    return count
