"""Member lists outside the admin (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import Member
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
