"""Reads of bureau data shaped for their pages (query counts decided here)."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from bureaus.models import (
    LIVE_STATUSES,
    Bureau,
    RecordType,
    Submission,
    SubmissionBatch,
    SubmissionStatus,
)
from consentoffice.core.queries import count_of


def registrations_for_member(member) -> QuerySet[Submission]:
    """What is registered about the member, where and until when (登録先・登録種別・登録期限).

    Live registrations only (waiting to be sent, sent, or registered); a ``None`` lapse date means
    "while the contract runs, then 5 years".
    """
    return (
        Submission.objects.filter(member=member, status__in=LIVE_STATUSES)
        .exclude(record_type=RecordType.DELETION)
        .select_related("bureau", "contract")
        .order_by("bureau_id", "record_type", "-event_date", "-id")
    )


def _count(status: str) -> Coalesce:
    return count_of(Submission.objects.filter(bureau=OuterRef("pk"), status=status), "bureau")


def bureaus_overview() -> QuerySet[Bureau]:
    """Each bureau with its pending and open-reject counts and its last batch (one query)."""
    last_batch = SubmissionBatch.objects.filter(bureau=OuterRef("pk")).order_by("-created_at", "-id")
    return Bureau.objects.annotate(
        pending_count=_count(SubmissionStatus.PENDING),
        rejected_count=_count(SubmissionStatus.REJECTED),
        batched_count=_count(SubmissionStatus.BATCHED),
        last_batch_at=Subquery(last_batch.values("created_at")[:1]),
    ).order_by("id")


def pending_by_record_type(bureau: Bureau) -> list[dict]:
    return list(
        Submission.objects.filter(bureau=bureau, status=SubmissionStatus.PENDING)
        .values("record_type")
        .annotate(n=Count("pk"))
        .order_by("record_type")
    )


def recent_batches(bureau: Bureau, limit: int = 10) -> list[SubmissionBatch]:
    return list(SubmissionBatch.objects.filter(bureau=bureau).order_by("-created_at", "-id")[:limit])


def open_reject_count() -> int:
    """How many rejected records wait for an operator to fix and resubmit, all bureaus together
    (the home's alert and the metrics' gauge)."""
    return Submission.objects.filter(status=SubmissionStatus.REJECTED).count()


def open_rejects(bureau: Bureau | None = None, limit: int = 50) -> QuerySet[Submission]:
    """Rejected records waiting for an operator to fix and resubmit."""
    rows = Submission.objects.filter(status=SubmissionStatus.REJECTED).select_related(
        "bureau", "member", "contract"
    )
    if bureau is not None:
        rows = rows.filter(bureau=bureau)
    return rows.order_by("-answered_at", "-id")[:limit]


def batch_summary(batch: SubmissionBatch) -> dict[str, int]:
    return Submission.objects.filter(batch=batch).aggregate(
        total=Count("pk"),
        accepted=Count("pk", filter=Q(status=SubmissionStatus.ACCEPTED)),
        rejected=Count("pk", filter=Q(status=SubmissionStatus.REJECTED)),
    )
