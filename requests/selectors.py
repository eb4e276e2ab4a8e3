"""Reads shaped for the information center's pages (query counts decided here)."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from bureaus.selectors import registrations_for_member
from consentoffice.core import people, roles
from members import keeping
from members.keeping import ended_members
from members.models import Contract, Member, Purpose
from requests import rules
from requests.models import Ticket, TicketParticipant


def tickets_for_lists() -> QuerySet[Ticket]:
    """Tickets with what every list shows, and a flag for a second open ticket of the same kind."""
    duplicate = Ticket.objects.filter(
        member=OuterRef("member"), kind=OuterRef("kind"), status__in=rules.OPEN_STATUSES
    ).exclude(pk=OuterRef("pk"))
    # Only an open ticket is flagged: a closed one no longer competes with the open one.
    return Ticket.objects.select_related("member", "assignee", "prepared_by").annotate(
        has_duplicate=Case(
            When(status__in=rules.OPEN_STATUSES, then=Exists(duplicate)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


# What a ticket row shows (``requests.presentation.ticket_rows`` and the rows written from it): the
# queues, the operator home and the member workspace load only these, not the ticket's forty
# columns with the member's and two users' eighty more (with their encrypted values and password
# hashes) — building and reading those was a fifth of a list's query. A page that reads another
# field of a row would load it row by row: the lists' tests count their queries with 3 and with 30
# rows.
ROW_FIELDS = (
    "number",
    "kind",
    "status",
    "outcome",
    "received_at",
    "due_at",
    "closed_at",
    "on_hold",
    "hold_started_at",
    "held_seconds",
    "member__member_no",
    "member__family_name",
    "member__given_name",
    *(f"assignee__{name}" for name in people.NAME_FIELDS),
)


def tickets_for_rows() -> QuerySet[Ticket]:
    """``tickets_for_lists`` cut to what a ticket row shows (``ROW_FIELDS``)."""
    return tickets_for_lists().select_related(None).select_related("member", "assignee").only(*ROW_FIELDS)


def held(ticket: Ticket, records: str) -> QuerySet:
    """The ticket's ``records`` (``correction_items``, ``deletion_items``, ``packages``); no query
    for a kind that cannot hold them (``rules.may_hold``)."""
    related = getattr(ticket, records)
    return related.all() if rules.may_hold(ticket.kind, records) else related.none()


def due_filter(state: str, now=None) -> Q:
    """Open requests ``overdue`` / ``due_soon`` (≤ 3 days) / ``ok``, as ``rules.due_state`` judges them."""
    now = now or timezone.now()
    soon = now + timedelta(days=settings.REQUEST_DUE_SOON_DAYS)
    tracked = Q(status__in=rules.OPEN_STATUSES, kind__in=rules.REQUEST_KINDS)
    if state == "overdue":
        return tracked & Q(due_at__lt=now)
    if state == "due_soon":
        return tracked & Q(due_at__gte=now, due_at__lte=soon)
    return ~(tracked & Q(due_at__lte=soon))


def operator_queue(user, *, scope: str = "mine") -> QuerySet[Ticket]:
    """Open tickets for an operator: ``mine``, ``unassigned``, ``due_soon`` or ``overdue``."""
    if scope in ("due_soon", "overdue"):
        # due_filter names the open statuses itself: saying them twice would make PostgreSQL count
        # their selectivity twice and misjudge how many rows a page must read.
        qs = tickets_for_rows().filter(due_filter(scope))
    else:
        qs = tickets_for_rows().filter(status__in=rules.OPEN_STATUSES)
    if scope == "mine":
        qs = qs.filter(assignee=user)
    elif scope == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    return qs.order_by("due_at", "id")


def prepared_by_user(user) -> Q:
    """Tickets whose outcome ``user`` prepared: submitted for approval or decided an item of, at any
    time, across send-backs and resubmissions (DESIGN, four eyes). The one rule of who may not
    approve: the approval service, the approval queue and the ticket page ask it."""
    took_part = TicketParticipant.objects.filter(
        ticket=OuterRef("pk"), user=user, role=TicketParticipant.Role.PREPARED
    )
    return Q(prepared_by=user) | Q(Exists(took_part))


def took_part_in(ticket: Ticket, user) -> bool:
    return Ticket.objects.filter(pk=ticket.pk).filter(prepared_by_user(user)).exists()


def may_open_package(ticket: Ticket, user) -> bool:
    """Who may open a disclosure package (issue 14): while the outcome waits for approval, a
    supervisor who may approve it (``took_part_in`` says they did not prepare it); once approved,
    the ticket's assignee, who delivers it. Nobody else, ever: the package holds every value in
    clear, which the back-office otherwise masks. The download and the ticket page ask this."""
    if user is None or not user.is_authenticated or ticket.kind != rules.Kind.DISCLOSURE:
        return False
    if ticket.status == rules.Status.PENDING_APPROVAL:
        return user.has_perm(roles.APPROVE_TICKET) and not took_part_in(ticket, user)
    if ticket.status == rules.Status.CLOSED and ticket.approved_at is not None:
        return (
            ticket.outcome in (rules.Outcome.FULFILLED, rules.Outcome.PARTLY)
            and ticket.assignee_id == user.pk
        )
    return False


def approval_queue(user) -> QuerySet[Ticket]:
    """Tickets waiting for a supervisor's approval, excluding the ones the user prepared (four eyes)."""
    return (
        tickets_for_rows()
        .filter(status=rules.Status.PENDING_APPROVAL)
        .exclude(prepared_by_user(user))
        .order_by("due_at", "id")
    )


def stop_preview(kind: str) -> list[str]:
    """What an approved stop of ``kind`` will stop, in the page's words: the names of the purposes
    ``rules.STOP_EFFECTS`` withdraws (one query) and provision to third parties; ``[]`` for a
    ticket that is no stop. The approval applies the same table (``services._apply_stop``)."""
    effect = rules.STOP_EFFECTS.get(kind)
    if effect is None:
        return []
    names = []
    if effect.purposes:
        names = list(
            Purpose.objects.filter(code__in=effect.purposes).order_by("id").values_list("name", flat=True)
        )
    if effect.stops_provision:
        names.append(_("第三者（提携先）への個人データの提供"))
    return names


def open_duplicates(*, member: Member, kind: str, exclude_pk: int | None = None) -> QuerySet[Ticket]:
    qs = Ticket.objects.filter(member=member, kind=kind, status__in=rules.OPEN_STATUSES)
    return qs.exclude(pk=exclude_pk) if exclude_pk else qs


def relationship_ended_on(member: Member) -> date | None:
    """The day the relationship ended (last contract ended, or last application declined);
    None while a contract runs or is applied for, or if there never was one."""
    return ended_members().filter(pk=member.pk).values_list("relationship_ended", flat=True).first()


def retention_ground(member: Member, target: str, today: date | None = None) -> str:
    """The retention duty that keeps ``target`` from being deleted today, or "" (APPI Art. 35).

    Read from the keeping table with the nightly erasure's own counting (``members.keeping``):
    refused exactly while the nightly erasure would still keep the target."""
    today = today or timezone.localdate()
    _label, ground = rules.DELETION_TARGETS[target]
    if ground is None:
        return ""
    if ground == "bureau_registration":
        return ground if _has_live_registration(member, today) else ""
    if not Contract.objects.filter(member=member).exists():
        return ""
    years = keeping.KEEPING[target].years
    return ground if keeping.kept_on(relationship_ended_on(member), years, today) else ""


def _has_live_registration(member: Member, today: date) -> bool:
    return (
        registrations_for_member(member)
        .filter(Q(registered_until__isnull=True) | Q(registered_until__gte=today))
        .exists()
    )


# Closed tickets the member workspace lists; the rest are in the ticket list, one click away.
MEMBER_CLOSED_TICKETS = 5


def member_tickets(member: Member) -> dict:
    """The member's open tickets (nearest due date first) and the latest closed ones, with the
    number of closed ones: what the member workspace lists (three queries)."""
    tickets = tickets_for_rows().filter(member=member)
    closed = tickets.exclude(status__in=rules.OPEN_STATUSES)
    return {
        "open": list(tickets.filter(status__in=rules.OPEN_STATUSES).order_by("due_at", "pk")),
        "closed": list(closed.order_by("-received_at", "-pk")[:MEMBER_CLOSED_TICKETS]),
        "closed_count": closed.count(),
    }
