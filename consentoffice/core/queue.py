"""Queueing Celery tasks from services without making the caller depend on the broker.

A task is queued after the transaction commits; if the broker is down the write still stands
and the periodic sweep picks the work up later (the outbox rows are the source of truth).
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)

# Give up quickly: the sweep will deliver, and an operator's save must not hang on the broker.
QUICK_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


def enqueue(task, *args) -> bool:
    try:
        task.apply_async(args=args, retry=True, retry_policy=QUICK_RETRY_POLICY)
    except Exception as exc:  # the broker being away must never lose the caller's write
        logger.warning(
            "broker unavailable, %s left for the periodic sweep (%s)", task.name, type(exc).__name__
        )
        return False
    return True


def enqueue_on_commit(task, *args) -> None:
    transaction.on_commit(lambda: enqueue(task, *args))
