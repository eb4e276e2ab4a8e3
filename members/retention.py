"""The nightly erasure after a refused or ended contract (clause Art. 7), read from the keeping
table (``members.keeping``) that the refusal of deletion requests reads too.

When no contract of a member is applied for or running, the relationship ended on the latest
``ended_on`` (or the application day of a declined one). Each kind of data is kept for its
period after that day, then erased; category ① is anonymized last. A member under a legal hold
(an open request, or a privacy officer's hold) is left alone and shown as held. ``plan`` is the
dry run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F
from django.utils import timezone

from consentoffice.core.i18n import record_text
from members import keeping, services
from members.keeping import ANONYMIZE, ended_members
from members.models import Member

__all__ = [
    "ANONYMIZE",
    "DEFAULT_RETENTION_YEARS",
    "Step",
    "apply",
    "ended_members",
    "plan",
    "retention_years",
]

# Kept for callers of the old name; the periods live in ``members.keeping.KEEPING``.
DEFAULT_RETENTION_YEARS: dict[str, int] = keeping.nightly_targets()


def retention_years() -> dict[str, int]:
    """target -> years after the relationship ended, for what the nightly job erases."""
    return keeping.nightly_targets()


@dataclass(frozen=True)
class Step:
    member_id: int
    member_no: str
    target: str
    records: int
    ended_on: date
    held_by: tuple[str, ...] = ()  # hold sources keeping the member (``keeping.HOLD_SOURCES``)

    @property
    def held(self) -> bool:
        return bool(self.held_by)


def plan(*, today: date | None = None) -> list[Step]:
    """What the next run would do: one step per member and kind of data due for erasure; steps of
    held members are listed with their holds and left alone by ``apply``."""
    today = today or timezone.localdate()
    steps: list[Step] = []
    hold_fields = [f"hold_{name}" for name in keeping.HOLD_SOURCES]
    for target, years in retention_years().items():
        due = (
            keeping.with_holds(ended_members())
            .filter(relationship_ended__lte=keeping.cutoff(today, years))
            .values("pk", "member_no", *hold_fields, ended=F("relationship_ended"))
        )
        rows = list(due)
        if not rows:
            continue
        if target == ANONYMIZE:
            counts = {row["pk"]: 1 for row in rows}
        else:
            counts = _counts(target, [row["pk"] for row in rows])
        steps.extend(
            Step(
                row["pk"],
                row["member_no"],
                target,
                counts[row["pk"]],
                row["ended"],
                tuple(keeping.holds_of(row)),
            )
            for row in rows
            if counts.get(row["pk"])
        )
    return steps


def _counts(target: str, member_ids: list[int]) -> dict[int, int]:
    qs = services.erasable_records(member_ids, target).values("member_id").annotate(n=Count("id"))
    return {row["member_id"]: row["n"] for row in qs}


def apply(*, actor, today: date | None = None) -> list[Step]:
    """Carry out the plan but for held members; running it again changes nothing (erased data is
    skipped). A hold placed between the plan and the run is seen: holds are read again here."""
    steps = [s for s in plan(today=today) if not s.held]
    held_now = keeping.held_member_ids({s.member_id for s in steps})
    steps = [s for s in steps if s.member_id not in held_now]
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
