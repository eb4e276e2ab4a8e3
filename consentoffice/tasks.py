from celery import shared_task
from django.utils import timezone

from consentoffice.models import Heartbeat

BEAT = "beat"


@shared_task(name="consentoffice.tasks.beat_heartbeat")
def beat_heartbeat() -> None:
    """Scheduled every minute by beat; its time tells /healthz/ that beat and a worker run."""
    Heartbeat.objects.update_or_create(name=BEAT, defaults={"last_seen": timezone.now()})
