"""/healthz/: database, broker and the age of the last beat run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consentoffice.celery import app
from consentoffice.models import Heartbeat
from consentoffice.tasks import BEAT, beat_heartbeat
from tests.fake_affiliate import free_port


def test_healthy_when_beat_ran_recently(client, db):
    beat_heartbeat()
    response = client.get("/healthz/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and all(check["ok"] for check in body["checks"].values())


def test_503_when_beat_is_stale_or_missing(client, db):
    assert client.get("/healthz/").status_code == 503
    Heartbeat.objects.create(name=BEAT, last_seen=timezone.now() - timedelta(minutes=10))
    response = client.get("/healthz/")
    assert response.status_code == 503 and not response.json()["checks"]["beat"]["ok"]


def test_503_when_the_broker_is_unreachable(client, db, monkeypatch):
    beat_heartbeat()
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert app.conf.broker_url.startswith("redis://")
    response = client.get("/healthz/")
    assert response.status_code == 503 and not response.json()["checks"]["broker"]["ok"]


REMOTE = "203.0.113.7"  # a client on another machine (TEST-NET-3)


@pytest.mark.parametrize("role", [None, "operator", "supervisor_without_otp"])
def test_others_get_the_bare_status_only(client, db, request, role):
    beat_heartbeat()
    if role == "operator":
        client.force_login(request.getfixturevalue("operator"))
    elif role == "supervisor_without_otp":
        client.force_login(request.getfixturevalue("supervisor"), otp=False)
    response = client.get("/healthz/", REMOTE_ADDR=REMOTE)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_failing_check_is_named_to_nobody_outside(client, db):
    response = client.get("/healthz/", REMOTE_ADDR=REMOTE)
    assert response.status_code == 503
    assert response.json() == {"status": "fail"}


@pytest.mark.parametrize("who", ["supervisor", "privacy_officer"])
def test_supervisors_and_loopback_see_the_checks(client, db, request, who):
    beat_heartbeat()
    client.force_login(request.getfixturevalue(who))
    assert set(client.get("/healthz/", REMOTE_ADDR=REMOTE).json()["checks"]) == {"database", "broker", "beat"}
    client.logout()
    assert "checks" in client.get("/healthz/", REMOTE_ADDR="127.0.0.1").json()
    assert "checks" in client.get("/healthz/", REMOTE_ADDR="::1").json()
