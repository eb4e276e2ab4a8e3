from datetime import datetime

from celery import shared_task
from django.utils import timezone

from consentoffice.models import Heartbeat

BEAT = "beat"


def last_beat() -> datetime | None:
    """When beat last ran (its heartbeat task, below, written by a worker); ``None`` if never."""
    return Heartbeat.objects.filter(name=BEAT).values_list("last_seen", flat=True).first()


@shared_task(name="consentoffice.tasks.beat_heartbeat")
def beat_heartbeat() -> None:
    """Scheduled every minute by beat; its time tells /healthz/ that beat and a worker run."""
    Heartbeat.objects.update_or_create(name=BEAT, defaults={"last_seen": timezone.now()})


@shared_task(name="consentoffice.tasks.seal_audit_trail")
def seal_audit_trail() -> int:
    """Scheduled by beat (CELERY_BEAT_SCHEDULE "seal-audit-trail"): chain the new audit rows."""
    from consentoffice.audit.seal import seal_audit_trail as seal

    return seal()


@shared_task(name="consentoffice.tasks.roll_history_partitions")
def roll_history_partitions() -> list[str]:
    """Scheduled by beat daily ("roll-history-partitions"): this month's and the next months'
    partitions of the partitioned history tables (consentoffice.core.partitions)."""
    from consentoffice.core.partitions import roll_forward

    return roll_forward()
