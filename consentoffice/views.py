"""Operational endpoints."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from consentoffice.celery import app as celery_app
from consentoffice.models import Heartbeat
from consentoffice.tasks import BEAT

BEAT_MAX_AGE_SECONDS = 5 * 60


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _broker() -> dict:
    try:
        with celery_app.connection_for_write(celery_app.conf.broker_url) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}


def _beat() -> dict:
    try:
        beat = Heartbeat.objects.filter(name=BEAT).first()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    if beat is None:
        return {"ok": False, "age_seconds": None}
    age = (timezone.now() - beat.last_seen).total_seconds()
    return {
        "ok": age <= BEAT_MAX_AGE_SECONDS,
        "age_seconds": round(age),
        "last_seen": beat.last_seen.isoformat(),
    }


@never_cache
@require_GET
def healthz(request):
    """Database, broker and the age of the last beat run: 200 when all are well, else 503."""
    checks = {"database": _database(), "broker": _broker(), "beat": _beat()}
    healthy = all(check["ok"] for check in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503
    )
