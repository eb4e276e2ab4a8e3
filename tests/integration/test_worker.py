"""Scheduled work on a real Celery worker, the real Redis and the real PostgreSQL (issue 5).

A fake affiliate listens on a free loopback port; tests that need a Redis of their own to stop
start one on a free port and stop it themselves.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connections

from consentoffice.celery import app
from members import partner_sync, services
from members.models import Member, PartnerSyncEvent, SyncStatus
from members.tasks import deliver_partner_sync
from requests import reminders, rules
from requests.models import Reminder
from tests.conftest import need_service
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.fake_affiliate import FakeAffiliate, free_port
from tests.processes import celery_worker_command, subprocess_env
from tests.requests import open_request

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ROOT = Path(__file__).resolve().parents[2]
SECRET = "integration-secret"


def wait_for(condition, timeout: float = 20.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@pytest.fixture
def quick(settings):
    settings.PARTNER_SYNC_TIMEOUT_SECONDS = 2
    settings.PARTNER_SYNC_BACKOFF_BASE_SECONDS = 0.0
    settings.PARTNER_SYNC_MAX_ATTEMPTS = 3


# Every broker key of this test process starts with its own prefix (CELERY_BROKER_KEY_PREFIX in
# production): under pytest-xdist the other process's test worker, on another test database,
# would otherwise take this process's tasks from the same Redis database and find nothing.
BROKER_KEY_PREFIX = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}:"


@contextmanager
def broker_at(url: str):
    """Point the Celery app at ``url`` (Celery reads CELERY_BROKER_URL from the environment first),
    with this process's key prefix."""
    previous = os.environ.get("CELERY_BROKER_URL")
    previous_options = app.conf.broker_transport_options
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_transport_options = {**(previous_options or {}), "global_keyprefix": BROKER_KEY_PREFIX}
    _forget_connections()
    try:
        yield
    finally:
        _forget_connections()
        app.conf.broker_transport_options = previous_options
        if previous is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous


def _forget_connections() -> None:
    """Drop pooled broker connections so the next publish connects to the current URL."""
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def worker():
    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
    ):
        yield


@contextmanager
def own_redis(port: int):
    binary = shutil.which("redis-server")
    need_service("redis-server binary", binary is not None)
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        assert wait_for(lambda: _pings(client), timeout=10), "redis-server did not start"
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


def _partner_member(endpoint: str):
    affiliate = AffiliateFactory(endpoint=endpoint, shared_secret=SECRET)
    member = MemberFactory()
    ContractFactory(member=member, affiliate=affiliate)
    return member


def test_a_change_is_delivered_by_the_worker_after_commit(redis_available, quick, operator):
    with FakeAffiliate(SECRET) as fake, broker_at(redis_available), worker():
        member = _partner_member(fake.url)
        services.update_member(member, actor=operator, reason="転居の届出", phone="0312345678")
        assert wait_for(lambda: PartnerSyncEvent.objects.filter(status=SyncStatus.SENT).exists())
    assert fake.bad_signatures == 0 and len(fake.received) == 1
    assert fake.received[0]["changes"] == {"phone": "0312345678"}


def test_500_is_retried_then_dead_then_replayed_by_a_supervisor(redis_available, quick, operator, supervisor):
    with FakeAffiliate(SECRET) as fake, broker_at(redis_available), worker():
        fake.default = 500
        member = _partner_member(fake.url)
        services.update_member(member, actor=operator, reason="転居の届出", phone="0312345678")
        event = PartnerSyncEvent.objects.get()
        for _ in range(3):  # beat's sweep
            deliver_partner_sync.delay()
            time.sleep(0.5)
        assert wait_for(lambda: PartnerSyncEvent.objects.get(pk=event.pk).status == SyncStatus.DEAD)
        assert PartnerSyncEvent.objects.get(pk=event.pk).attempts == 3
        fake.default = 200
        partner_sync.replay(event, actor=supervisor)
        assert wait_for(lambda: PartnerSyncEvent.objects.get(pk=event.pk).status == SyncStatus.SENT)
    assert len(fake.applied) == 1


def test_an_edit_while_redis_is_down_is_saved_and_delivered_once_redis_is_back(quick, operator):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    with FakeAffiliate(SECRET) as fake, broker_at(url):
        member = _partner_member(fake.url)
        with own_redis(port):
            pass  # started and stopped: the broker is now down
        services.update_member(member, actor=operator, reason="転居の届出", phone="0312345678")
        assert Member.objects.get(pk=member.pk).phone == "0312345678"
        assert PartnerSyncEvent.objects.get().status == SyncStatus.PENDING
        with own_redis(port), worker():
            deliver_partner_sync.delay()  # beat's sweep once Redis is back
            assert wait_for(lambda: PartnerSyncEvent.objects.get().status == SyncStatus.SENT)
    assert len(fake.received) == 1


def test_a_worker_killed_mid_delivery_loses_nothing_and_each_event_is_applied_once(
    redis_available, quick, operator, settings
):
    settings.PARTNER_SYNC_LEASE_SECONDS = 3
    with FakeAffiliate(SECRET) as fake, broker_at(redis_available):
        fake.delay = 3.0
        member = _partner_member(fake.url)
        for phone in ("0311111111", "0322222222", "0333333333"):
            services.update_member(member, actor=operator, reason="届出", phone=phone)
        events = list(PartnerSyncEvent.objects.values_list("event_id", flat=True))
        env = subprocess_env(
            CELERY_BROKER_URL=redis_available,
            CELERY_BROKER_KEY_PREFIX=BROKER_KEY_PREFIX,
            PARTNER_SYNC_LEASE_SECONDS="3",
            PARTNER_SYNC_TIMEOUT_SECONDS="10",
        )
        process = subprocess.Popen(
            celery_worker_command("--pool=solo", "--loglevel=WARNING"),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deliver_partner_sync.delay()
            assert fake.arrived.wait(timeout=30), "the worker never called the affiliate"
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
        fake.delay = 0.0
        time.sleep(3.5)  # the killed worker's lease runs out
        with worker():
            deliver_partner_sync.delay()
            assert wait_for(
                lambda: not PartnerSyncEvent.objects.exclude(status=SyncStatus.SENT).exists(), timeout=30
            )
    assert {str(e) for e in events} == set(fake.applied)
    assert all(count == 1 for count in fake.applied.values())


def test_reminders_are_sent_once_under_two_concurrent_runs(operator, supervisor):
    operator.email, supervisor.email = "op@example.jp", "sv@example.jp"
    operator.save()
    supervisor.save()
    received = datetime(2026, 11, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    tickets = [
        open_request(rules.Kind.CORRECTION, member=MemberFactory(), actor=operator, received_at=received)
        for _ in range(5)
    ]
    now = received + timedelta(days=16)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(reminders.send_deadline_reminders(now=now))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert Reminder.objects.filter(kind="overdue").count() == len(tickets)
    assert Reminder.objects.filter(kind="escalation").count() == len(tickets)
    assert sum(1 for r in results if r.skipped_locked) <= 1
    assert len({m.to[0] for m in mail.outbox}) == len(mail.outbox)  # one message per person
