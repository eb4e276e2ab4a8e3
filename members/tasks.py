"""Thin Celery tasks around members services. Arguments are ids, never personal data.

Services are imported inside the task bodies and queue these tasks by name
(``members.services.queue_delivery``), so no import runs from services back to here.
"""

from celery import shared_task


@shared_task(name="members.tasks.deliver_partner_sync", acks_late=True)
def deliver_partner_sync() -> dict:
    """Deliver due partner-sync events (queued after each change and swept by beat)."""
    from members import partner_sync

    result = partner_sync.deliver_due_events()
    return {"sent": result.sent, "retried": result.retried, "dead": result.dead}


@shared_task(name="members.tasks.apply_retention", acks_late=True)
def apply_retention() -> dict:
    """Erase and anonymize what the retention policy says is due (clause Art. 7)."""
    from consentoffice.core.history import system_user
    from members import retention, services

    actor = system_user()
    # Clause Art. 7 first: uses that ended with a contract ended on a day set in advance.
    withdrawn = services.end_consented_uses_due(actor=actor)
    steps = retention.apply(actor=actor)
    return {"steps": len(steps), "consents_withdrawn": withdrawn}
