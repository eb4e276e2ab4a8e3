"""Operational endpoints."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.template import loader
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from consentoffice.accounts.security import is_direct_local
from consentoffice.celery import app as celery_app
from consentoffice.core import roles
from consentoffice.tasks import last_beat

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
        last_seen = last_beat()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    if last_seen is None:
        return {"ok": False, "age_seconds": None}
    age = (timezone.now() - last_seen).total_seconds()
    return {
        "ok": age <= BEAT_MAX_AGE_SECONDS,
        "age_seconds": round(age),
        "last_seen": last_seen.isoformat(),
    }


@never_cache
@require_GET
def healthz(request):
    """Database, broker and the age of the last beat run: 200 when all are well, else 503.

    Anyone gets the bare status; the checks (error class names, beat times) only a logged-in
    supervisor or privacy officer, or a caller on this machine (a load balancer's probe through
    loopback, ``make run``)."""
    checks = {"database": _database(), "broker": _broker(), "beat": _beat()}
    healthy = all(check["ok"] for check in checks.values())
    body: dict = {"status": "ok" if healthy else "fail"}
    if may_see_details(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if healthy else 503)


def may_see_details(request) -> bool:
    user = getattr(request, "user", None)
    if is_direct_local(request):
        return True
    # A supervisor who has entered the password but not yet the second factor is not one yet.
    verified = getattr(user, "is_verified", lambda: False)
    return bool(user and user.is_authenticated and verified() and user.has_perm(roles.VIEW_AUDIT))


def server_error(request):
    """``handler500``: Django's own renders 500.html without any context; this one gives it the
    request's id (consentoffice.logs), so an operator can quote it. Nothing else: the database or
    the session may be what failed."""
    from consentoffice.logs import current_request_id

    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({"request_id": current_request_id()}))
