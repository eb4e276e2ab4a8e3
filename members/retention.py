"""Retention after a refused or ended contract (clause Art. 7), as one policy table.

When no contract of a member is applied for or running, the relationship ended on the latest
``ended_on`` (or the application day of a declined one). Each kind of data is kept for its
period after that day, then erased; category ① is anonymized last. ``plan`` is the dry run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from consentoffice.i18n import record_text
from members import services
from members.models import Contract, ContractStatus, Member, MemberStatus

ANONYMIZE = "attributes"
# Years kept after the relationship ended. Identity records: 犯罪収益移転防止法 Art. 6 (7 years).
DEFAULT_RETENTION_YEARS: dict[str, int] = {
    "online_auth_events": 1,
    "public_records": 1,
    "contact_records": 5,
    "financial_declarations": 5,
    "identity_documents": 7,
    ANONYMIZE: 7,
}


def retention_years() -> dict[str, int]:
    return {**DEFAULT_RETENTION_YEARS, **getattr(settings, "MEMBER_RETENTION_YEARS", {})}


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def ended_members():
    """Members with no live contract, annotated with the day their relationship ended."""
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


@dataclass(frozen=True)
class Step:
    member_id: int
    member_no: str
    target: str
    records: int
    ended_on: date


def plan(*, today: date | None = None) -> list[Step]:
    """What the next run would do: one step per member and kind of data due for erasure."""
    today = today or timezone.localdate()
    steps: list[Step] = []
    for target, years in sorted(retention_years().items(), key=lambda item: item[1]):
        cutoff = _years_before(today, years)
        due = (
            ended_members()
            .filter(relationship_ended__lte=cutoff)
            .values_list("pk", "member_no", F("relationship_ended"))
        )
        rows = list(due)
        if not rows:
            continue
        if target == ANONYMIZE:
            steps.extend(Step(pk, no, target, 1, ended) for pk, no, ended in rows)
            continue
        counts = _counts(target, [pk for pk, _no, _ended in rows])
        steps.extend(Step(pk, no, target, counts[pk], ended) for pk, no, ended in rows if counts.get(pk))
    return steps


def _counts(target: str, member_ids: list[int]) -> dict[int, int]:
    qs = services.erasable_records(member_ids, target).values("member_id").annotate(n=Count("id"))
    return {row["member_id"]: row["n"] for row in qs}


def apply(*, actor, today: date | None = None) -> list[Step]:
    """Carry out the plan; running it again changes nothing (erased data is skipped)."""
    steps = plan(today=today)
    members = {m.pk: m for m in Member.objects.filter(pk__in={s.member_id for s in steps})}
    done = []
    for step in steps:
        reason = record_text(
            "保有期間の経過による%(what)s（同意条項第7条、関係終了日 %(ended)s）",
            what=record_text("匿名化") if step.target == ANONYMIZE else record_text("削除"),
            ended=step.ended_on.isoformat(),
        )
        member = members[step.member_id]
        if step.target == ANONYMIZE:
            services.anonymize_member(member, actor=actor, reason=reason)
        else:
            services.erase_member_data(member, actor=actor, target=step.target, reason=reason)
        done.append(step)
    return done
