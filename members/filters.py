"""Member lists outside the admin (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import PREFECTURES, Gender, Member, MemberStatus
from members.selectors import parse_search_term, search_members


class MemberSearchFilter(django_filters.FilterSet):
    """The one search box: member number, phone (any format), kana, kanji name or e-mail.

    The lookup is chosen from the shape of the term (``members.selectors.parse_search_term``), so
    each search is one indexed lookup.
    """

    q = django_filters.CharFilter(
        label=_("会員を検索"),
        method="search",
        help_text=_("会員番号・電話番号（ハイフン有無・全角可）・カナ・漢字氏名・メールアドレス"),
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "size": 40,
                "aria-describedby": "member-search-help",
            }
        ),
    )

    class Meta:
        model = Member
        fields: list[str] = []

    @property
    def term(self):
        """What kind of term was typed (kept in the access log; the term itself never is)."""
        if not self.is_bound or not self.is_valid():
            return None
        return parse_search_term(self.form.cleaned_data.get("q"))

    def search(self, queryset, name, value):
        return search_members(value, queryset)


class IdCursorFilter(django_filters.NumberFilter):
    """A keyset cursor on the id (whole numbers only)."""

    field_class = forms.IntegerField


class PagingForm(forms.Form):
    def clean(self):
        data = super().clean()
        if data.get("after") and data.get("before"):
            # Neither is applied: the list starts from the newest members again.
            data.pop("after")
            data.pop("before")
            raise forms.ValidationError(_("ページの指定が正しくありません。"), code="cursor")
        return data


class MemberListFilter(MemberSearchFilter):
    """The operators' member list (``members.list_views``): the search box, three filters and the
    keyset cursors (``after``: older than that id, ``before``: newer). A value that does not
    validate is reported by the form and not applied; the others still are."""

    q = django_filters.CharFilter(label=_("会員を検索"), method="search", max_length=200)
    status = django_filters.ChoiceFilter(label=_("状態"), choices=MemberStatus.choices)
    prefecture = django_filters.ChoiceFilter(label=_("都道府県"), choices=[(p, p) for p in PREFECTURES])
    gender = django_filters.ChoiceFilter(label=_("性別"), choices=Gender.choices)
    # Labelled for the error list only: the paging links carry them.
    after = IdCursorFilter(
        label=_("ページ"), field_name="id", lookup_expr="lt", min_value=1, max_value=2**63 - 1
    )
    before = IdCursorFilter(
        label=_("ページ"), field_name="id", lookup_expr="gt", min_value=1, max_value=2**63 - 1
    )

    class Meta:
        model = Member
        fields: list[str] = []
        form = PagingForm
