"""Non-trivial reads of members data: member search, export rows, sensitive values for display.

Member search decides the lookup from the shape of the term instead of OR-ing every column, so
each search is one indexed lookup (member number, phone, e-mail or a search-key prefix) and stays
fast at a million members.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consentoffice.core import roles
from consentoffice.core.crypto import mask
from consentoffice.core.queries import count_of
from members import normalize
from members.models import (
    Consent,
    ContactRecord,
    Contract,
    ContractStatus,
    Entrustment,
    FinancialDeclaration,
    IdentityDocument,
    Member,
    MemberStatus,
    ProvisionRecord,
)


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
            return SearchTerm(SearchKind.MEMBER_NO, normalize.member_no_key(digits))
        try:
            return SearchTerm(SearchKind.PHONE, normalize.phone(digits))
        except ValidationError:
            prefix = "0" + digits[3:] if digits.startswith("+81") else digits.lstrip("+")
            if len(prefix) >= MIN_PHONE_PREFIX:
                return SearchTerm(SearchKind.PHONE_PREFIX, prefix)
            return SearchTerm(SearchKind.MEMBER_NO, normalize.member_no_key(digits))
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


def show_sensitive(request, value: Any, label) -> str:
    """A sensitive value for this page as ``sensitive_display`` shows it; a value shown in clear
    is noted on the request, so the page logs one ``view_sensitive`` access naming them all
    (``members.services.record_sensitive_shown``)."""
    shown = sensitive_display(value, viewer=request.user)
    if value not in (None, "") and may_view_sensitive(request.user):
        if not hasattr(request, "_sensitive_labels"):
            request._sensitive_labels = set()
        request._sensitive_labels.add(str(label))
    return shown


# --- The member workspace (consentoffice.home.workspace) -------------------------------------

# Rows of each record shown on the workspace; the rest are one click away with their count.
WORKSPACE_RECENT = 5


def _member_count(model) -> Any:
    return count_of(model.objects.filter(member=OuterRef("pk")), "member")


def workspace_member(member_no: str) -> Member | None:
    """The member by number with the counts the workspace shows next to the latest rows (one query)."""
    return (
        Member.objects.filter(member_no=member_no)
        .annotate(
            contact_count=_member_count(ContactRecord),
            provision_count=_member_count(ProvisionRecord),
            entrustment_count=_member_count(Entrustment),
            document_count=_member_count(IdentityDocument),
        )
        .first()
    )


def workspace_records(member: Member) -> dict[str, list]:
    """What the workspace lists of the member: every contract, the latest few of each record."""
    latest = slice(0, WORKSPACE_RECENT)
    return {
        "contracts": list(Contract.objects.filter(member=member).select_related("affiliate")),
        "documents": list(IdentityDocument.objects.filter(member=member)[latest]),
        "contacts": list(
            ContactRecord.objects.filter(member=member)
            .select_related("recorded_by")
            .order_by("-at", "-id")[latest]
        ),
        "provisions": list(
            ProvisionRecord.objects.filter(member=member).order_by("-provided_on", "-id")[latest]
        ),
        "entrustments": list(
            Entrustment.objects.filter(member=member)
            .select_related("contractor")
            .order_by("-provided_on", "-id")[latest]
        ),
    }


# --- Use of data (clause Art. 2, 5, 7; APPI Art. 35) ----------------------------------------
#
# One answer to "may we use this member's data for this purpose on this day?": ``usable_members``
# is the rule as a set (marketing and research extracts ask it for a million members in one
# query), ``may_use`` asks the same set about one member, and ``use_overview`` explains each
# answer on the member page. Nothing else decides a use.

CREDIT = "credit"
BUREAU = "bureau"
MARKETING_OWN = "marketing_own"
MARKETING_PARTNER = "marketing_partner"
RESEARCH = "research"
# Provision of a partner card's data to its affiliate (clause Art. 10, APPI Art. 27): not a
# purpose the member consents to one by one, but a use that a stop of provision ends.
PARTNER_PROVISION = "partner_provision"

# The uses that end at once when no transaction runs any more (clause Art. 7).
CONSENTED_USES = (MARKETING_OWN, MARKETING_PARTNER, RESEARCH)
USE_CODES = (CREDIT, BUREAU, MARKETING_OWN, MARKETING_PARTNER, RESEARCH, PARTNER_PROVISION)


class UseReason:
    """Why a use is or is not allowed (shown on the member page, codes in tests)."""

    CONSENTED = "consented"
    NOT_CONSENTED = "not_consented"
    ANONYMIZED = "anonymized"
    DECLINED = "declined"  # Art. 7(1)
    ENDED = "ended"  # Art. 7(2)
    AFTER_RELATIONSHIP = "after_relationship"  # credit (and bureau after a decline) under Art. 7
    PROVISION_STOPPED = "provision_stopped"
    NO_PARTNER_CONTRACT = "no_running_contract"


USE_LABELS = {
    CREDIT: _("与信判断及び与信後の管理（第1条）"),
    BUREAU: _("個人信用情報機関への照会・登録（第3条）"),
    MARKETING_OWN: _("当社の営業案内（第2条(1)①）"),
    MARKETING_PARTNER: _("第三者から受託した営業案内（第2条(1)②）"),
    RESEARCH: _("市場調査・商品開発（第2条(1)③）"),
    PARTNER_PROVISION: _("提携先への提供（第10条）"),
}
USE_REASON_LABELS = {
    UseReason.CONSENTED: _("同意があり、取引が続いています。"),
    UseReason.NOT_CONSENTED: _("同意がないか、中止の申出により撤回されています。"),
    UseReason.ANONYMIZED: _("匿名化済みのため利用できません。"),
    UseReason.DECLINED: _(
        "申込が不成立で続いている取引がないため、与信判断と信用情報機関への登録にだけ利用します（同意条項第7条第1項）。"
    ),
    UseReason.ENDED: _(
        "すべての取引が終了したため、与信判断と開示等の請求への対応にだけ利用します（同意条項第7条第2項）。"
    ),
    UseReason.AFTER_RELATIONSHIP: _("取引の終了・不成立の後も同意条項第7条により利用できます。"),
    UseReason.PROVISION_STOPPED: _("第三者提供の停止の請求により提供しません。"),
    UseReason.NO_PARTNER_CONTRACT: _("続いている取引がないため提供しません。"),
}


def _running_contracts(on: date):
    """Contracts of the outer member that run on ``on``: applied for or formed, or ended later."""
    return Contract.objects.filter(member=OuterRef("pk"), applied_on__lte=on).filter(
        Q(status__in=[ContractStatus.APPLIED, ContractStatus.FORMED])
        | Q(status=ContractStatus.ENDED, ended_on__gt=on)
    )


def has_running_transaction(member: Member, *, on: date | None = None) -> bool:
    """Whether a transaction (各取引) of the member runs on ``on``: the line clause Art. 7 draws."""
    on = on or timezone.localdate()
    return Member.objects.filter(pk=member.pk).filter(Exists(_running_contracts(on))).exists()


def _use_facts(on: date) -> dict[str, Exists]:
    mine = Contract.objects.filter(member=OuterRef("pk"), applied_on__lte=on)
    return {
        "use_running": Exists(_running_contracts(on)),
        "use_any_contract": Exists(mine),
        "use_declined": Exists(mine.filter(status=ContractStatus.DECLINED)),
    }


def _consented(purpose_code: str) -> Exists:
    return Exists(Consent.objects.filter(member=OuterRef("pk"), purpose__code=purpose_code, granted=True))


def use_rule(purpose_code: str, *, on: date | None = None) -> Q:
    """The rule itself, as a condition on ``Member`` rows (see DESIGN, "Use of data").

    - An anonymized member is used for nothing.
    - While a transaction runs (or before any was applied for) a purpose is used only with the
      member's consent, which stops (Art. 2(2), APPI Art. 35) withdraw.
    - With no running transaction (Art. 7): after a declined application, whatever the reason,
      only credit decisions and bureau registration (7(1)); once every contract has ended, only
      credit decisions (and requests such as disclosure, which are not a use here) (7(2)).
      Marketing and research end at once.
    - Partner provision (Art. 10) needs a running transaction and no stop of provision.
    """
    if purpose_code not in USE_CODES:
        raise ValueError(f"unknown purpose of use: {purpose_code}")
    on = on or timezone.localdate()
    facts = _use_facts(on)
    running, any_contract, declined = facts["use_running"], facts["use_any_contract"], facts["use_declined"]
    live = Q(running) | ~Q(any_contract)
    if purpose_code == PARTNER_PROVISION:
        allowed = Q(running) & Q(provision_stopped=False)
    elif purpose_code == CREDIT:
        allowed = (live & Q(_consented(CREDIT))) | (~Q(running) & Q(any_contract))
    elif purpose_code == BUREAU:
        allowed = (live & Q(_consented(BUREAU))) | (~Q(running) & Q(declined))
    else:
        allowed = live & Q(_consented(purpose_code))
    return ~Q(status=MemberStatus.ANONYMIZED) & allowed


def usable_members(purpose_code: str, *, on: date | None = None) -> QuerySet[Member]:
    """Every member whose data may be used for ``purpose_code`` on ``on`` (today by default)."""
    return Member.objects.filter(use_rule(purpose_code, on=on))


def may_use(member: Member, purpose_code: str, *, on: date | None = None) -> bool:
    """May the member's data be used for ``purpose_code`` on ``on``? One indexed query."""
    return usable_members(purpose_code, on=on).filter(pk=member.pk).exists()


@dataclass(frozen=True)
class UseAnswer:
    code: str
    allowed: bool
    reason: str


# Stands for the member's id in the compiled statement of ``use_overview`` (never a real id).
_USE_MEMBER_MARK = -7_301_009_115


@lru_cache(maxsize=8)
def _use_overview_statement(on: date, alias: str, vendor: str) -> tuple[str, tuple, tuple[int, ...]]:
    """The SQL of ``use_overview`` for day ``on``, compiled once per day and process.

    Building and compiling the rule's nested ``Exists`` expressions costs ~20 ms of Python per call
    (several times what PostgreSQL spends running it); only the member's id differs between
    members, so it goes in where the mark stands."""
    facts = _use_facts(on)
    answers = {
        f"may_{code}": ExpressionWrapper(use_rule(code, on=on), output_field=BooleanField())
        for code in USE_CODES
    }
    rows = (
        Member.objects.using(alias)
        .filter(pk=_USE_MEMBER_MARK)
        .annotate(**facts, **answers)
        .values("status", "provision_stopped", *facts, *answers)
    )
    sql, params = rows.query.get_compiler(using=alias).as_sql()
    marks = tuple(i for i, value in enumerate(params) if value == _USE_MEMBER_MARK)
    if len(marks) != 1:
        raise RuntimeError("the member's id must appear exactly once in the use statement")
    return sql, tuple(params), marks


def use_overview(member: Member, *, on: date | None = None) -> list[UseAnswer]:
    """Each use of the member's data today and why (one query): what the member page shows.

    The yes/no comes from ``use_rule`` itself; the facts only name the reason.
    """
    on = on or timezone.localdate()
    alias = router.db_for_read(Member)
    sql, params, marks = _use_overview_statement(on, alias, connections[alias].vendor)
    values = list(params)
    for index in marks:
        values[index] = member.pk
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, values)
        found = cursor.fetchone()
        if found is None:
            raise Member.DoesNotExist("use_overview: no such member")
        row = dict(zip((column[0] for column in cursor.description), found, strict=True))
    result = []
    for code in USE_CODES:
        allowed = bool(row[f"may_{code}"])
        result.append(UseAnswer(code, allowed, _use_reason(code, allowed, row)))
    return result


def use_rows(member: Member, *, on: date | None = None) -> list[tuple[str, bool, str]]:
    """``use_overview`` as the member pages show it: (purpose, allowed, reason) in words."""
    return [
        (USE_LABELS[answer.code], answer.allowed, USE_REASON_LABELS[answer.reason])
        for answer in use_overview(member, on=on)
    ]


def _use_reason(code: str, allowed: bool, row: dict) -> str:
    if row["status"] == MemberStatus.ANONYMIZED:
        return UseReason.ANONYMIZED
    ended_relationship = row["use_any_contract"] and not row["use_running"]
    if code == PARTNER_PROVISION:
        if row["provision_stopped"]:
            return UseReason.PROVISION_STOPPED
        return UseReason.CONSENTED if allowed else UseReason.NO_PARTNER_CONTRACT
    if ended_relationship:
        if allowed:
            return UseReason.AFTER_RELATIONSHIP
        return UseReason.DECLINED if row["use_declined"] else UseReason.ENDED
    return UseReason.CONSENTED if allowed else UseReason.NOT_CONSENTED
