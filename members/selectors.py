"""Non-trivial reads of members data: member search, export rows, sensitive values for display.

Member search decides the lookup from the shape of the term instead of OR-ing every column, so
each search is one indexed lookup (member number, phone, e-mail or a search-key prefix) and stays
fast at a million members.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet

from consentoffice import roles
from consentoffice.crypto import mask
from members import normalize
from members.models import FinancialDeclaration, Member


class SearchKind:
    """What an operator typed into the member search box (kept in the access log, never the term)."""

    MEMBER_NO = "member_no"
    PHONE = "phone"
    PHONE_PREFIX = "phone_prefix"
    EMAIL = "email"
    KANA = "kana"
    NAME = "name"


_DIGITS = re.compile(r"\+?[0-9]+")
# A partial phone number is searched only from this many digits on (a shorter prefix matches too much).
MIN_PHONE_PREFIX = 4


@dataclass(frozen=True)
class SearchTerm:
    kind: str
    value: str

    def as_q(self) -> Q:
        return {
            SearchKind.MEMBER_NO: lambda v: Q(member_no=v),
            SearchKind.PHONE: lambda v: Q(phone=v),
            SearchKind.PHONE_PREFIX: lambda v: Q(phone__startswith=v),
            SearchKind.EMAIL: lambda v: Q(email__iexact=v),
            SearchKind.KANA: lambda v: Q(search_kana__startswith=v),
            SearchKind.NAME: lambda v: Q(search_name__startswith=v),
        }[self.kind](self.value)


def parse_search_term(term: str | None) -> SearchTerm | None:
    """Classify a search term by its shape; ``None`` when there is nothing to search for.

    - contains ``@``: an e-mail address (case-insensitive, whole address);
    - digits (full-width, hyphens, spaces, ``+81`` allowed) starting with ``0``, ``+`` or ``81``: a
      phone number, whole or its first digits; other digits: a member number;
    - kana in any form (hiragana, half-width, katakana): the start of the reading;
    - anything else: the start of the name in kanji (family name first).
    """
    text = normalize.text(term)
    if not text:
        return None
    if "@" in text:
        return SearchTerm(SearchKind.EMAIL, text.replace(" ", ""))
    digits = normalize.digits(text)
    if _DIGITS.fullmatch(digits):
        looks_like_phone = digits.startswith(("0", "+")) or (
            digits.startswith("81") and len(digits) in (11, 12)
        )
        if not looks_like_phone:
            return SearchTerm(SearchKind.MEMBER_NO, digits)
        try:
            return SearchTerm(SearchKind.PHONE, normalize.phone(digits))
        except ValidationError:
            prefix = "0" + digits[3:] if digits.startswith("+81") else digits.lstrip("+")
            if len(prefix) >= MIN_PHONE_PREFIX:
                return SearchTerm(SearchKind.PHONE_PREFIX, prefix)
            return SearchTerm(SearchKind.MEMBER_NO, digits)
    try:
        normalize.validate_kana(text)
    except ValidationError:
        return SearchTerm(SearchKind.NAME, normalize.name_key(text))
    return SearchTerm(SearchKind.KANA, normalize.search_key(text))


def search_members(term: str | None, queryset: QuerySet[Member] | None = None) -> QuerySet[Member]:
    """Members matching ``term`` (see ``parse_search_term``); all of ``queryset`` for an empty term."""
    queryset = Member.objects.all() if queryset is None else queryset
    parsed = parse_search_term(term)
    return queryset if parsed is None else queryset.filter(parsed.as_q())


def members_for_export(member_ids) -> QuerySet[Member]:
    """Members to export with their declarations (newest first) in one extra query."""
    return (
        Member.objects.filter(pk__in=member_ids)
        .order_by("member_no")
        .prefetch_related(
            Prefetch(
                "declarations",
                queryset=FinancialDeclaration.objects.order_by("-declared_on", "-id"),
                to_attr="declarations_newest_first",
            )
        )
    )


def may_view_sensitive(viewer) -> bool:
    """Supervisors and privacy officers see encrypted values in clear; operators see them masked."""
    return viewer is not None and viewer.has_perm(roles.VIEW_SENSITIVE)


def sensitive_display(value: Any, *, viewer) -> str:
    """A sensitive value as ``viewer`` may see it, without logging.

    For pages that show many values: the page records one ``view_sensitive`` access instead of one
    per value (``members.services.sensitive_value`` logs each value it reveals).
    """
    if value in (None, ""):
        return ""
    if may_view_sensitive(viewer):
        return f"{value:,}" if isinstance(value, int) else str(value)
    return mask(value)
