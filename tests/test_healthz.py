"""/healthz/: database, broker and the age of the last beat run."""

from __future__ import annotations

from datetime import timedelta

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
