"""Filters of the audit pages (django-filter): the history list, a member timeline, the access log.

The history list spans every history table: ``HistoryFilter`` validates the query string once
and its ``filter_queryset`` is applied to each table's queryset by the selector.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consentoffice.audit.selectors import (
    HISTORY_TYPE_LABELS,
    Tracked,
    member_by_no,
    model_choices,
    tracked_models,
)
from members.models import AccessAction, AccessLog, Member


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _date_field(qs) -> str:
    return "at" if qs.model is AccessLog else "history_date"


def _users():
    return get_user_model().objects.order_by("username")


# The days a date filter accepts: the audit trail begins long after the first and ends long before
# the last, and a day outside (9999-12-31) would overflow when its end is computed.
FILTER_DATE_MIN, FILTER_DATE_MAX = date(1900, 1, 1), date(2999, 12, 31)


def validate_filter_date(value: date) -> None:
    if not FILTER_DATE_MIN <= value <= FILTER_DATE_MAX:
        raise ValidationError(
            _("日付は%(first)sから%(last)sまでの間で指定してください。"),
            code="out_of_range",
            params={"first": FILTER_DATE_MIN.isoformat(), "last": FILTER_DATE_MAX.isoformat()},
        )


def filter_date(label, method: str) -> django_filters.DateFilter:
    """A date filter (one day, Japan time) that answers an out-of-range day with a form error."""
    return django_filters.DateFilter(
        label=label,
        method=method,
        validators=[validate_filter_date],
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class DateRangeFilter(django_filters.FilterSet):
    """``date_from``/``date_to``: whole days in Japan time, both included."""

    date_from = filter_date(_("期間（開始日）"), "filter_date_from")
    date_to = filter_date(_("期間（終了日）"), "filter_date_to")
    # The order the form shows its fields in (the URL's order in DESIGN.md).
    field_order = ("user", "model", "member", "action", "date_from", "date_to", "type", "reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rank = {name: i for i, name in enumerate(self.field_order)}
        self.filters = dict(sorted(self.filters.items(), key=lambda item: rank.get(item[0], len(rank))))

    # Filters the selector applies itself (which tables, and the ids it puts in marked places);
    # ``filter_queryset`` leaves them alone.
    selector_applied: tuple[str, ...] = ()

    def statement_key(self) -> tuple:
        """What ``filter_queryset`` does to a table, as part of the key under which the selector
        keeps the compiled statement: every cleaned value but those the selector applies."""
        data = self.form.cleaned_data if self.is_valid() else {}
        return tuple(
            sorted((name, value) for name, value in data.items() if name not in self.selector_applied)
        )

    def filter_date_from(self, qs, name, value):
        return qs.filter(**{f"{_date_field(qs)}__gte": _start_of(value)})

    def filter_date_to(self, qs, name, value):
        return qs.filter(**{f"{_date_field(qs)}__lt": _start_of(value + timedelta(days=1))})


class MemberNumberMixin:
    """``member``: a member number; the member is looked up once per request."""

    _member_cache: Member | None | bool = False

    @property
    def member(self) -> Member | None:
        if self._member_cache is False:
            number = self.form.cleaned_data.get("member") if self.is_valid() else None
            self._member_cache = member_by_no(number) if number else None
        return self._member_cache

    @property
    def member_not_found(self) -> bool:
        return bool(self.is_valid() and self.form.cleaned_data.get("member")) and self.member is None


class HistoryFilter(MemberNumberMixin, DateRangeFilter):
    """``/audit/?user=<id>&model=&member=&date_from=&date_to=&type=&reason=``."""

    user = django_filters.ModelChoiceFilter(
        label=_("変更者"), queryset=lambda request: _users(), method="filter_nothing"
    )
    model = django_filters.ChoiceFilter(label=_("対象"), choices=model_choices, method="filter_nothing")
    member = django_filters.CharFilter(label=_("会員番号"), method="filter_nothing")
    type = django_filters.ChoiceFilter(
        label=_("種別"),
        field_name="history_type",
        choices=list(HISTORY_TYPE_LABELS.items()),
    )
    reason = django_filters.CharFilter(
        label=_("理由（部分一致）"), field_name="history_change_reason", lookup_expr="icontains"
    )

    selector_applied = ("user", "model", "member")

    def filter_nothing(self, qs, name, value):
        """Applied by the selector: which tables to read, the member through each table's path,
        and the user who made the change."""
        return qs

    @property
    def user_id(self) -> int | None:
        user = self.form.cleaned_data.get("user") if self.is_valid() else None
        return user.pk if user else None

    def branches(self) -> list[Tracked]:
        """The history tables this filter reads (all, or the one chosen)."""
        label = self.form.cleaned_data.get("model") if self.is_valid() else None
        return [t for t in tracked_models() if not label or t.label == label]


class TimelineFilter(DateRangeFilter):
    """A member timeline narrowed to a period."""


class AccessLogFilter(MemberNumberMixin, DateRangeFilter):
    """``/audit/access/?user=<id>&member=&action=&date_from=&date_to=``."""

    user = django_filters.ModelChoiceFilter(
        label=_("利用者"), field_name="user", queryset=lambda request: _users()
    )
    member = django_filters.CharFilter(label=_("会員番号"), method="filter_member")
    action = django_filters.ChoiceFilter(label=_("操作"), field_name="action", choices=AccessAction.choices)

    class Meta:
        model = AccessLog
        fields = ["user", "member", "action", "date_from", "date_to"]

    def filter_member(self, qs, name, value):
        member = self.member
        return qs.filter(member_id=member.pk) if member else qs.none()
