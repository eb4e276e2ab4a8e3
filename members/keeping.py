"""Keeping data (clause Art. 7, APPI Art. 35): one table of how long each kind of data is kept.

Per data category: the years it is kept after the relationship ended and the legal ground that
keeps it. The nightly erasure (``members.retention``) and the refusal of a deletion request
(``requests.selectors.retention_ground``) both read this table and count with ``erasable_from``,
so they cannot disagree: a deletion item of a target with a legal ground is refused exactly while
the nightly erasure still keeps that target. A target without a legal ground is kept for the
company's own need only, so a deletion request erases it at once. ``docs/retention.md`` prints
the table (a test compares them); the reasons for each period are written there.

A legal hold (``LegalHold``, or an open request of the member registered by the requests app)
stops the nightly erasure until it is released.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from consentoffice.core.dates import period_end
from members.models import Contract, ContractStatus, LegalHold, Member, MemberStatus


@dataclass(frozen=True)
class Ground:
    """A legal duty to keep data (保存義務), cited by a refused deletion item."""

    code: str
    label: object  # lazy Japanese text, shown on the refusal and in the letter
    law: str  # the provision, as the doc prints it


GROUNDS: dict[str, Ground] = {
    g.code: g
    for g in (
        Ground(
            "aml_retention",
            _("犯罪収益移転防止法により取引関係終了後7年間の保存義務がある本人確認記録"),
            "犯罪収益移転防止法第6条（確認記録の保存）",
        ),
        Ground(
            "bureau_registration",
            _("個人信用情報機関に所定の期間登録される情報（同意条項第3条）"),
            "割賦販売法第35条の3の56、貸金業法第41条の35（指定信用情報機関への登録）",
        ),
        Ground(
            "contract_record",
            _("割賦販売法・貸金業法により保存が必要な契約・取引の記録"),
            "貸金業法第19条・同法施行規則第17条（帳簿、最終返済期日等から10年）、割賦販売法第30条の2・第35条の3の56",
        ),
    )
}

ANONYMIZE = "attributes"
NIGHTLY = "nightly"  # erased or anonymized by the nightly job
BY_REQUEST = "request"  # no erasure routine: kept until a person decides (stays anonymous after ①)
BY_BUREAU = "bureau"  # lapses at the bureau (bureaus.tasks.expire_registrations)


@dataclass(frozen=True)
class Keeping:
    """One row of the keeping table (保有期間表)."""

    target: str
    category: str  # the clause's Art. 1(1) category
    label: object
    years: int | None  # after the relationship ended; None: the bureau's registration period
    ground: str  # a key of GROUNDS, or "" (kept for the company's own need only)
    erased_by: str  # NIGHTLY, BY_REQUEST or BY_BUREAU
    requestable: bool = True  # a deletion request may name it


KEEPING: dict[str, Keeping] = {
    k.target: k
    for k in (
        Keeping("online_auth_events", "⑨", _("⑨ オンライン認証記録（端末・IPアドレス）"), 1, "", NIGHTLY),
        Keeping("public_records", "⑩", _("⑩ 公開情報"), 1, "", NIGHTLY),
        Keeping("contact_records", "⑤", _("⑤ 応対記録（通話内容の要旨・録音の参照）"), 5, "", NIGHTLY),
        Keeping("identity_documents", "⑥⑦⑧", _("⑥⑦⑧ 本人確認書類の記録"), 7, "aml_retention", NIGHTLY),
        Keeping(
            "financial_declarations",
            "④",
            _("④ 申告された資産・収入等"),
            10,
            "contract_record",
            NIGHTLY,
        ),
        Keeping("contracts", "②③", _("②③ 契約内容・支払状況"), 10, "contract_record", BY_REQUEST),
        Keeping(
            ANONYMIZE,
            "①",
            _("① 氏名・住所・連絡先等（匿名化）"),
            10,
            "contract_record",
            NIGHTLY,
            requestable=False,
        ),
        Keeping(
            "bureau_registrations",
            "②③",
            _("個人信用情報機関への登録"),
            None,
            "bureau_registration",
            BY_BUREAU,
        ),
    )
}


def nightly_targets() -> dict[str, int]:
    """target -> years, for what the nightly job erases (shortest first)."""
    rows = [(k.target, k.years) for k in KEEPING.values() if k.erased_by == NIGHTLY and k.years]
    return dict(sorted(rows, key=lambda row: row[1]))


# --- Counting ------------------------------------------------------------------------------


def erasable_from(ended: date, years: int) -> date:
    """The first day data kept ``years`` after ``ended`` may be erased (the day after the period).

    The period is counted as the Civil Code counts it (``consentoffice.core.dates.period_end``: the
    day the relationship ended is not counted), so both readers count alike and as DESIGN says.
    """
    return period_end(ended, years=years) + timedelta(days=1)


def kept_on(ended: date | None, years: int, today: date) -> bool:
    """Whether data of a relationship that ended on ``ended`` is still kept on ``today``."""
    return ended is None or erasable_from(ended, years) > today


def cutoff(today: date, years: int) -> date:
    """The latest end day whose data may be erased ``today``: ``erasable_from(e) <= today`` exactly
    when ``e <= cutoff`` (``erasable_from`` never decreases), so the nightly job filters by one date
    and still agrees day by day (leap days, month ends) with ``kept_on``."""
    try:
        day = today.replace(year=today.year - years)
    except ValueError:
        day = today.replace(year=today.year - years, day=28)
    while erasable_from(day + timedelta(days=1), years) <= today:
        day += timedelta(days=1)
    while erasable_from(day, years) > today:
        day -= timedelta(days=1)
    return day


def ended_members() -> QuerySet[Member]:
    """Members with no live contract, annotated with the day their relationship ended (the last
    ``ended_on``, or the application day of a declined application)."""
    live = Contract.objects.filter(
        member=OuterRef("pk"), status__in=[ContractStatus.APPLIED, ContractStatus.FORMED]
    )
    return (
        Member.objects.exclude(status=MemberStatus.ANONYMIZED)
        .exclude(Exists(live))
        .annotate(
            relationship_ended=Max(
                Coalesce("contracts__ended_on", "contracts__applied_on"),
                filter=Q(contracts__status__in=[ContractStatus.ENDED, ContractStatus.DECLINED]),
            )
        )
    )


# --- Legal holds (法的保全) ------------------------------------------------------------------

# name -> a function returning an ``Exists`` over rows of ``OuterRef("pk")`` (the member) that
# hold erasure. ``officer_hold`` is ours; apps that depend on members add theirs from
# ``AppConfig.ready`` (members cannot import them): requests adds ``open_request``.
HOLD_SOURCES: dict[str, Callable[[], Exists]] = {}


def register_hold_source(name: str, source: Callable[[], Exists]) -> None:
    HOLD_SOURCES[name] = source


def _officer_hold() -> Exists:
    return Exists(LegalHold.objects.filter(member=OuterRef("pk"), released_at__isnull=True))


register_hold_source("officer_hold", _officer_hold)


def with_holds(qs: QuerySet[Member]) -> QuerySet[Member]:
    """Annotate ``hold_<name>`` per hold source (one ``EXISTS`` each, no query per member)."""
    return qs.annotate(**{f"hold_{name}": source() for name, source in HOLD_SOURCES.items()})


def holds_of(row) -> list[str]:
    """The names of the holds on an annotated member (or a ``values()`` dict)."""
    get = row.get if isinstance(row, dict) else lambda key: getattr(row, key, False)
    return [name for name in HOLD_SOURCES if get(f"hold_{name}")]


def held_member_ids(member_ids) -> set[int]:
    """The members among ``member_ids`` that a hold keeps from erasure."""
    qs = with_holds(Member.objects.filter(pk__in=list(member_ids)))
    held = Q(pk__in=[])
    for name in HOLD_SOURCES:
        held |= Q(**{f"hold_{name}": True})
    return set(qs.filter(held).values_list("pk", flat=True))


# --- Erasure elsewhere -----------------------------------------------------------------------

# name -> ``fn(member, *, actor, reason) -> int``: what an app that depends on members holds of a
# member and erases when the member is anonymized (``members.services.erase_member_traces``).
# Registered from ``AppConfig.ready`` (requests, bureaus); ``tests/members/test_erasure.py``
# checks every table and file with personal data is covered here or exempted with a reason.
ERASERS: dict[str, Callable[..., int]] = {}


def register_eraser(name: str, eraser: Callable[..., int]) -> None:
    ERASERS[name] = eraser
