"""Thin Celery tasks for the information center."""

from celery import shared_task

from requests import reminders


@shared_task(name="requests.tasks.send_deadline_reminders", acks_late=True)
def send_deadline_reminders() -> dict:
    run = reminders.send_deadline_reminders()
    return {"created": dict(run.created), "emails": run.emails, "skipped_locked": run.skipped_locked}


@shared_task(name="requests.tasks.purge_delivered_packages", acks_late=True)
def purge_delivered_packages() -> dict:
    """Delete disclosure package files some days after delivery (the record stays)."""
    from requests import disclosure

    return {"deleted": disclosure.purge_delivered_packages()}
