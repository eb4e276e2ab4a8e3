"""Reads of the audit trail (監査証跡): every simple-history table and the access log as one list.

Each history table is filtered first (user, member, date range, change type, reason), ordered by
``history_date`` and cut to one page; the pages are joined with ``UNION ALL`` and cut again, so a
page costs one query whatever the tables hold (PostgreSQL walks one index per table and stops
after a page). Pagination is keyset on (date, model, id): nothing ever counts the rows.

The union is compiled once per shape of filter and thread, the member's and the user's ids in
marked places (``core.queries.Statement``), and PostgreSQL plans it once per connection: building
and planning 27 tables cost more than reading their pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import BigIntegerField, F, Model, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import registered_models

from consentoffice.core import roles
from consentoffice.core.converters import member_url_maker
from consentoffice.core.crypto import EncryptedTextField, mask
from consentoffice.core.people import display_name
from consentoffice.core.queries import Statement, StatementCache
from members import access_details, normalize
from members.models import AccessAction, AccessLog, Member

PAGE_SIZE = 50
EXPORT_CHUNK = 1000

HISTORY_TYPE_LABELS = {"+": _("作成"), "~": _("変更"), "-": _("削除")}
ACCESS_LABEL = "members.accesslog"


class BranchFilter(Protocol):
    """What narrows each table of a list (the FilterSets of ``audit.filters``)."""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet: ...

    def statement_key(self) -> tuple:
        """What ``filter_queryset`` does, as part of the key of the compiled statement."""


class NoFilter:
    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset

    def statement_key(self) -> tuple:
        return ()


NO_FILTER = NoFilter()


@dataclass(frozen=True)
class Tracked:
    """One model under simple-history: its history table and how a history row names its member."""

    index: int
    label: str
    model: type[Model]
    history: type[Model]
    member_path: str | None

    @property
    def verbose_name(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def table(self) -> str:
        return self.history._meta.db_table

    @property
    def pk_attname(self) -> str:
        return self.model._meta.pk.attname


def _member_path(model: type[Model]) -> str | None:
    """The lookup from a history row to its member: itself, ``member`` or one hop (contract, ticket)."""
    if model is Member:
        return "id"
    fields = {f.name: f for f in model._meta.concrete_fields}
    member = fields.get("member")
    if member is not None and member.related_model is Member:
        return "member_id"
    for field in model._meta.concrete_fields:
        target = field.related_model if field.many_to_one else None
        if target is None or target is model:
            continue
        hop = {f.name: f for f in target._meta.concrete_fields}.get("member")
        if hop is not None and hop.related_model is Member:
            return f"{field.name}__member_id"
    return None


@lru_cache(maxsize=1)
def tracked_models() -> tuple[Tracked, ...]:
    """Every model with simple-history, in label order (the order is the keyset's tie-breaker)."""
    found = {}
    for model in registered_models.values():
        manager = getattr(model._meta, "simple_history_manager_attribute", None)
        if manager is None or model._meta.proxy:
            continue
        found[model._meta.label_lower] = (model, getattr(model, manager).model)
    return tuple(
        Tracked(index=i, label=label, model=model, history=history, member_path=_member_path(model))
        for i, (label, (model, history)) in enumerate(sorted(found.items()))
    )


def tracked_by_label(label: str) -> Tracked | None:
    return next((t for t in tracked_models() if t.label == label), None)


def access_index() -> int:
    """The access log sorts after every history table at the same instant."""
    return len(tracked_models())


def model_choices() -> list[tuple[str, str]]:
    return [(t.label, t.verbose_name) for t in tracked_models()]


# --- Keyset cursor ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    at: datetime
    model: int
    id: int

    def encode(self) -> str:
        return f"{self.at.isoformat()}_{self.model}_{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """A cursor from the URL; anything malformed means the first page."""
        if not text:
            return None
        try:
            at, model, id_ = text.rsplit("_", 2)
            parsed = datetime.fromisoformat(at.replace(" ", "+"))
            if timezone.is_naive(parsed):
                return None
            return cls(at=parsed, model=int(model), id=int(id_))
        except ValueError:
            return None


def _after(cursor: Cursor | None, index: int, date_field: str, id_field: str) -> Q:
    """Rows of table ``index`` that come after ``cursor`` in (date, model, id) descending order."""
    if cursor is None:
        return Q()
    if index < cursor.model:
        return Q(**{f"{date_field}__lte": cursor.at})
    if index > cursor.model:
        return Q(**{f"{date_field}__lt": cursor.at})
    return Q(**{f"{date_field}__lt": cursor.at}) | Q(**{date_field: cursor.at, f"{id_field}__lt": cursor.id})


# --- Rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    """One line of the audit list or a member timeline: a history row or an access-log row."""

    at: datetime
    model_index: int
    id: int
    kind: str
    user_id: int | None
    reason: str
    object_id: int | None
    member_id: int | None
    ref: str = ""
    user: Any = None
    member_no: str = ""
    # Links of the page's row (``linked``): the member's workspace and timeline, the change's diff.
    workspace_url: str = ""
    timeline_url: str = ""
    detail_url: str = ""

    @property
    def cursor(self) -> Cursor:
        return Cursor(at=self.at, model=self.model_index, id=self.id)

    @property
    def is_access(self) -> bool:
        return self.model_index == access_index()

    @property
    def tracked(self) -> Tracked | None:
        models = tracked_models()
        return models[self.model_index] if self.model_index < len(models) else None

    @property
    def label(self) -> str:
        return ACCESS_LABEL if self.is_access else self.tracked.label

    @property
    def model_name(self) -> str:
        return str(AccessLog._meta.verbose_name) if self.is_access else self.tracked.verbose_name

    @property
    def object_label(self) -> str:
        """What was changed, as the center names it (会員 2000000001, 受付票 T20261127-0001), as
        the history row itself recorded it; objects without such a name by their id."""
        if self.is_access:
            return self.model_name
        return f"{self.model_name} {self.ref}" if self.ref else f"{self.model_name} #{self.object_id}"

    @property
    def reason_display(self) -> str:
        """The change reason as recorded; an access-log detail in the reader's language."""
        return access_details.describe(self.reason) if self.is_access else self.reason

    @property
    def kind_label(self) -> str:
        if self.is_access:
            return str(AccessAction(self.kind).label) if self.kind in AccessAction.values else self.kind
        return str(HISTORY_TYPE_LABELS.get(self.kind, self.kind))

    @property
    def user_label(self) -> str:
        if self.user is None:
            return str(_("（不明）"))
        return display_name(self.user)


_COLUMNS = ("a_at", "a_model", "a_id", "a_kind", "a_user", "a_reason", "a_object", "a_member", "a_ref")

# The field by which the center names an object of each tracked model (numbers and codes, never a
# person's name); read from the history row, so a list shows the name the object had then.
REFERENCE_FIELDS = {
    "bureaus.bureau": "code",
    "members.affiliate": "code",
    "members.consentversion": "code",
    "members.contract": "contract_no",
    "members.contractor": "name",
    "members.member": "member_no",
    "members.partnersyncevent": "event_id",
    "members.purpose": "code",
    "requests.ticket": "number",
    # A ticket's parts are named by their ticket's number (a join on the ticket's primary key).
    "requests.correctionitem": "ticket__number",
    "requests.deletionitem": "ticket__number",
    "requests.disclosurepackage": "ticket__number",
}


def _no_ref():
    return Value("", output_field=TextField())


def _null_id():
    return Cast(Value(None), BigIntegerField())


def _history_branch(tracked: Tracked, qs: QuerySet) -> QuerySet:
    member = Cast(F(tracked.member_path), BigIntegerField()) if tracked.member_path else _null_id()
    return (
        qs.order_by("-history_date", "-history_id")
        .annotate(
            a_at=F("history_date"),
            a_model=Value(tracked.index),
            a_id=Cast(F("history_id"), BigIntegerField()),
            a_kind=F("history_type"),
            a_user=Cast(F("history_user_id"), BigIntegerField()),
            a_reason=F("history_change_reason"),
            a_object=Cast(F(tracked.pk_attname), BigIntegerField()),
            a_member=member,
            a_ref=Cast(F(REFERENCE_FIELDS[tracked.label]), TextField())
            if tracked.label in REFERENCE_FIELDS
            else _no_ref(),
        )
        .values_list(*_COLUMNS)
    )


def _access_branch(qs: QuerySet) -> QuerySet:
    return (
        qs.order_by("-at", "-id")
        .annotate(
            a_at=F("at"),
            a_model=Value(access_index()),
            a_id=Cast(F("id"), BigIntegerField()),
            a_kind=F("action"),
            a_user=Cast(F("user_id"), BigIntegerField()),
            a_reason=F("detail"),
            a_object=Cast(F("id"), BigIntegerField()),
            a_member=Cast(F("member_id"), BigIntegerField()),
            a_ref=_no_ref(),
        )
        .values_list(*_COLUMNS)
    )


def _union(branches: list[QuerySet], limit: int) -> QuerySet:
    """``UNION ALL`` of the filtered branches, newest first, one page; each branch cut first
    where the database allows it (PostgreSQL), so each reads at most a page from its index."""
    ordering = ("-a_at", "-a_model", "-a_id")
    # Each branch keeps its own ordering on the raw columns (date, id), which its index serves
    # as it stands; the annotations are casts that no index holds.
    if len(branches) == 1:
        return branches[0][:limit]
    if connection.features.supports_slicing_ordering_in_compound:
        branches = [b[:limit] for b in branches]
    else:
        branches = [b.order_by() for b in branches]
    return branches[0].union(*branches[1:], all=True).order_by(*ordering)[:limit]


# Stand-ins for the ids a list is narrowed to while its statement is compiled (13 digits: no id,
# page size or table number of this system comes near them); ``Statement.rows`` puts the ids in.
MEMBER_MARK = 9_000_000_000_101
USER_MARK = 9_000_000_000_102
MARKS = {MEMBER_MARK: "member", USER_MARK: "user"}
_statements = StatementCache()


def _merged(key: tuple, build: Callable[[], list[QuerySet]], limit: int, **ids: int | None) -> list[tuple]:
    """The rows of the union that ``build`` makes (its ids marked), compiled once per ``key``."""

    def compile_union() -> Statement | None:
        branches = build()
        if not branches:
            return None
        wanted = {mark: name for mark, name in MARKS.items() if ids.get(name) is not None}
        return Statement.compile(_union(branches, limit), wanted)

    statement = _statements.get(
        (*key, limit, *(ids[name] is not None for name in sorted(ids))), compile_union
    )
    if statement is None:
        return []
    return statement.rows(**{name: value for name, value in ids.items() if value is not None})


def _rows(raw: list[tuple]) -> list[AuditRow]:
    """Page rows with their users and member numbers: two queries whatever the page holds."""
    rows = [AuditRow(*values) for values in raw]
    users = get_user_model().objects.in_bulk({r.user_id for r in rows if r.user_id})
    member_ids = {r.member_id for r in rows if r.member_id}
    numbers = (
        dict(Member.objects.filter(pk__in=member_ids).values_list("pk", "member_no")) if member_ids else {}
    )
    return [
        AuditRow(**{**r.__dict__, "user": users.get(r.user_id), "member_no": numbers.get(r.member_id, "")})
        for r in rows
    ]


_ID_MARK = 987654321987


def linked(rows: list[AuditRow]) -> list[AuditRow]:
    """The rows with their links, each URL reversed once per page rather than once per row."""
    workspace, timeline = member_url_maker("member_workspace"), member_url_maker("audit:timeline")
    details: dict[str, str] = {}

    def detail(row: AuditRow) -> str:
        if row.is_access:
            return ""
        if row.label not in details:
            details[row.label] = reverse("audit:history_detail", args=[row.label, _ID_MARK])
        return details[row.label].replace(str(_ID_MARK), str(row.id))

    return [
        replace(
            row,
            workspace_url=workspace(row.member_no) if row.member_no else "",
            timeline_url=timeline(row.member_no) if row.member_no else "",
            detail_url=detail(row),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Page:
    rows: list[AuditRow]
    next_cursor: Cursor | None


def _page(raw: list[tuple], limit: int) -> Page:
    rows = linked(_rows(raw[:limit]))
    return Page(rows=rows, next_cursor=rows[-1].cursor if len(raw) > limit and rows else None)


def history_page(
    *,
    branches: Iterable[Tracked],
    filters: BranchFilter = NO_FILTER,
    member_id: int | None = None,
    user_id: int | None = None,
    cursor: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of the history of ``branches``, each filtered by ``filters`` (a FilterSet), by
    the member concerned and by the user who made the change."""
    branches = tuple(branches)

    def build() -> list[QuerySet]:
        queries = []
        for tracked in branches:
            qs = tracked.history.objects.all()
            if member_id is not None:
                if not tracked.member_path:
                    continue
                qs = qs.filter(**{tracked.member_path: MEMBER_MARK})
            if user_id is not None:
                qs = qs.filter(history_user_id=USER_MARK)
            qs = filters.filter_queryset(qs).filter(
                _after(cursor, tracked.index, "history_date", "history_id")
            )
            queries.append(_history_branch(tracked, qs))
        return queries

    key = ("history", tuple(t.index for t in branches), filters.statement_key(), cursor)
    return _page(_merged(key, build, limit + 1, member=member_id, user=user_id), limit)


def timeline_page(
    member: Member,
    *,
    filters: BranchFilter = NO_FILTER,
    cursor: Cursor | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One member's timeline: every history row about them and their access-log rows, newest first."""

    def build() -> list[QuerySet]:
        queries = []
        for tracked in tracked_models():
            if not tracked.member_path:
                continue
            qs = tracked.history.objects.filter(**{tracked.member_path: MEMBER_MARK})
            qs = filters.filter_queryset(qs).filter(
                _after(cursor, tracked.index, "history_date", "history_id")
            )
            queries.append(_history_branch(tracked, qs))
        access = filters.filter_queryset(AccessLog.objects.filter(member_id=MEMBER_MARK)).filter(
            _after(cursor, access_index(), "at", "id")
        )
        queries.append(_access_branch(access))
        return queries

    key = ("timeline", filters.statement_key(), cursor)
    return _page(_merged(key, build, limit + 1, member=member.pk), limit)


def walk(fetch: Callable[[Cursor | None], Page]) -> Iterator[AuditRow]:
    """Every row of a filtered view, page after page (CSV export): memory stays one page."""
    cursor = None
    while True:
        page = fetch(cursor)
        yield from page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


# --- Access log ------------------------------------------------------------------------------


def access_log_page(qs: QuerySet, *, cursor: Cursor | None = None, limit: int = PAGE_SIZE) -> Page:
    """One page of (filtered) access-log rows, newest first; users and members joined."""
    qs = qs.filter(_after(cursor, access_index(), "at", "id"))
    logs = list(qs.select_related("user", "member").order_by("-at", "-id")[: limit + 1])
    rows = [
        AuditRow(
            at=log.at,
            model_index=access_index(),
            id=log.id,
            kind=log.action,
            user_id=log.user_id,
            reason=log.detail,
            object_id=log.id,
            member_id=log.member_id,
            user=log.user,
            member_no=log.member.member_no if log.member else "",
        )
        for log in logs[:limit]
    ]
    rows = linked(rows)
    return Page(rows=rows, next_cursor=rows[-1].cursor if len(logs) > limit else None)


# --- Diff ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    before: str
    after: str
    changed: bool
    sensitive: bool


@dataclass(frozen=True)
class Diff:
    tracked: Tracked
    row: Any
    previous: Any
    changes: list[FieldChange]
    member: Member | None
    masked: bool


def _related_label(obj) -> str:
    """How a referenced row is named in a diff: a member by number, a user by name (姓 名)."""
    if isinstance(obj, Member):
        return obj.member_no
    return str(obj)


def _related_labels(fields, rows) -> dict[tuple[type, Any], str]:
    """Names of the rows the foreign keys point at: one query per referenced model."""
    wanted: dict[type, set] = {}
    for field in fields:
        if field.many_to_one and field.related_model is not None:
            for row in rows:
                value = getattr(row, field.attname)
                if value is not None:
                    wanted.setdefault(field.related_model, set()).add(value)
    return {
        (model, pk): f"{_related_label(obj)} (#{pk})"
        for model, ids in wanted.items()
        for pk, obj in model._default_manager.in_bulk(ids).items()
    }


def _display(field, value, related: dict | None = None) -> str:
    if value is None or value == "":
        return ""
    if related is not None and field.many_to_one and field.related_model is not None:
        return related.get((field.related_model, value), f"#{value}")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("はい") if value else _("いいえ"))
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y年%-m月%-d日 %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y年%-m月%-d日")
    if isinstance(value, int) and not field.is_relation:
        return f"{value:,}"
    return str(value)


def can_see_clear_values(viewer) -> bool:
    """Only the privacy officer sees encrypted values in the audit trail; everyone else a mask."""
    return viewer is not None and viewer.has_perm(roles.VIEW_AUDIT_CLEAR_VALUES)


def history_diff(tracked: Tracked, history_id: int, *, viewer) -> Diff:
    """A history row against the previous row of the same object: field, before, after.

    Raises ``DoesNotExist`` for an unknown row. Encrypted fields are masked unless the viewer is
    the privacy officer."""
    history = tracked.history
    row = history.objects.select_related("history_user").get(history_id=history_id)
    object_id = getattr(row, tracked.pk_attname)
    previous = (
        history.objects.filter(**{tracked.pk_attname: object_id})
        .filter(
            Q(history_date__lt=row.history_date)
            | Q(history_date=row.history_date, history_id__lt=row.history_id)
        )
        .order_by("-history_date", "-history_id")
        .first()
    )
    clear = can_see_clear_values(viewer)
    related = _related_labels(history.tracked_fields, [r for r in (row, previous) if r is not None])
    changes = []
    for field in history.tracked_fields:
        after = getattr(row, field.attname)
        before = getattr(previous, field.attname) if previous is not None else None
        sensitive = isinstance(field, EncryptedTextField)
        changed = previous is None and after not in (None, "") or previous is not None and before != after
        if getattr(field, "never_shown", False):  # a secret: masked whole, whoever looks
            shown_before, shown_after = mask(before, visible=0), mask(after, visible=0)
        elif sensitive and not clear:
            shown_before, shown_after = mask(before), mask(after)
        else:
            shown_before, shown_after = _display(field, before, related), _display(field, after, related)
        changes.append(
            FieldChange(
                name=field.name,
                label=str(field.verbose_name),
                before=shown_before,
                after=shown_after,
                changed=changed,
                sensitive=sensitive,
            )
        )
    member = None
    if tracked.member_path:
        member_id = history.objects.filter(history_id=history_id).values_list(tracked.member_path, flat=True)
        member = Member.objects.filter(pk__in=member_id).first()
    return Diff(tracked=tracked, row=row, previous=previous, changes=changes, member=member, masked=not clear)


def member_by_no(member_no: str) -> Member | None:
    """The member of a number typed into the audit filter or the timeline's URL, full width too."""
    return Member.objects.filter(member_no=normalize.member_no_key(member_no)).first()
