"""Thin Celery tasks around bureau services: no arguments, no personal data, idempotent."""

from celery import shared_task


@shared_task(name="bureaus.tasks.build_batches", acks_late=True)
def build_batches() -> dict:
    """Register pending facts (and those the members app reported by state only) in one file per
    member bureau. Running twice, or on two workers, sends nothing twice (claimed rows are locked
    and marked batched; nothing pending means no file)."""
    from bureaus import services
    from consentoffice.core.history import system_user

    actor = system_user()
    swept = services.sweep_contract_events(actor=actor)
    batches = services.build_batches(actor=actor)
    return {
        "swept": swept,
        "batches": [b.pk for b in batches],
        "records": sum(b.record_count for b in batches),
    }


@shared_task(name="bureaus.tasks.expire_registrations", acks_late=True)
def expire_registrations() -> dict:
    """Mark registrations whose period has passed as expired (clause Art. 3(3))."""
    from bureaus import services
    from consentoffice.core.history import system_user

    return {"expired": services.expire_registrations(actor=system_user())}
