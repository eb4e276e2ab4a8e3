from celery import shared_task
from django.utils import timezone

from consentoffice.models import Heartbeat

BEAT = "beat"


@shared_task(name="consentoffice.tasks.beat_heartbeat")
def beat_heartbeat() -> None:
    """Scheduled every minute by beat; its time tells /healthz/ that beat and a worker run."""
    Heartbeat.objects.update_or_create(name=BEAT, defaults={"last_seen": timezone.now()})


@shared_task(name="consentoffice.tasks.seal_audit_trail")
def seal_audit_trail() -> int:
    """Scheduled by beat (CELERY_BEAT_SCHEDULE "seal-audit-trail"): chain the new audit rows."""
    from consentoffice.audit.seal import seal_audit_trail as seal

    return seal()
