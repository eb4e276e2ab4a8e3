"""Faults under a real Celery worker, the real PostgreSQL and a real Redis (issue 9).

- PostgreSQL drops the worker's connection while a delivery is in flight: the event is delivered
  again by the next sweep, and the affiliate applies it once (it answers the repeat with 409).
- Redis is stopped and started again on the same port under a running worker: the worker
  reconnects and every change made before, during and after the outage is delivered.
- An affiliate flaps between 503, connection refused, a lost response and 200: every event is
  applied exactly once by its event id, none dies.

``FAULTS`` counts the faults injected; run with ``-s`` for the figures SECURITY.md quotes.
"""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from contextlib import ExitStack
from http.server import ThreadingHTTPServer

import pytest
from django.db import connection

from members import services
from members.models import PartnerSyncEvent, SyncStatus
from members.tasks import deliver_partner_sync
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.fake_affiliate import FakeAffiliate, free_port
from tests.integration.test_worker import broker_at, own_redis, wait_for, worker

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SECRET = "faults-secret"
FAULTS: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    print(f"\nfaults injected: {sum(FAULTS.values())} ({dict(FAULTS)})")


@pytest.fixture
def fast_retries(settings):
    settings.PARTNER_SYNC_TIMEOUT_SECONDS = 2
    settings.PARTNER_SYNC_BACKOFF_BASE_SECONDS = 0.0
    settings.PARTNER_SYNC_BACKOFF_MAX_SECONDS = 0.0
    settings.PARTNER_SYNC_LEASE_SECONDS = 2
    settings.PARTNER_SYNC_MAX_ATTEMPTS = 50


def _partner_members(endpoint: str, count: int):
    affiliate = AffiliateFactory(endpoint=endpoint, shared_secret=SECRET)
    members = [MemberFactory() for _ in range(count)]
    for member in members:
        ContractFactory(member=member, affiliate=affiliate)
    return members


def _change(members, operator, round_: int) -> None:
    for n, member in enumerate(members):
        member.refresh_from_db()
        services.update_member(member, actor=operator, reason="届出", phone=f"03{round_:02d}{n:06d}")


def _all_sent() -> bool:
    return not PartnerSyncEvent.objects.exclude(status=SyncStatus.SENT).exists()


def _sweep_until_all_sent(timeout: float = 60.0) -> bool:
    """Beat's sweep, every half second, until nothing is left to deliver."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _all_sent():
            return True
        deliver_partner_sync.delay()
        time.sleep(0.5)
    return _all_sent()


def _delivered_exactly_once(fake: FakeAffiliate) -> None:
    outbox = {str(e) for e in PartnerSyncEvent.objects.values_list("event_id", flat=True)}
    assert set(fake.applied) == outbox, "every event reached the affiliate"
    assert all(count == 1 for count in fake.applied.values()), "no event applied twice"
    assert not PartnerSyncEvent.objects.filter(status=SyncStatus.DEAD).exists()


# --- PostgreSQL ------------------------------------------------------------------------------


def _terminate_other_backends() -> int:
    """Kill every other session on the test database (the worker's), as a failover would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_a_lost_database_connection_mid_delivery_is_retried_without_a_duplicate(
    redis_available, fast_retries, operator
):
    with FakeAffiliate(SECRET) as fake, broker_at(redis_available):
        members = _partner_members(fake.url, 3)
        _change(members, operator, 1)
        assert PartnerSyncEvent.objects.count() == 3
        fake.delay = 2.0
        with worker():
            deliver_partner_sync.delay()
            assert fake.arrived.wait(timeout=30), "the worker never called the affiliate"
            killed = _terminate_other_backends()
            assert killed >= 1
            FAULTS["postgres connection terminated mid-delivery"] += 1
            fake.delay = 0.0
            time.sleep(2.5)  # the first delivery finishes, its result cannot be recorded
            if _terminate_other_backends():  # the worker's idle connection, if it kept one
                FAULTS["postgres connection terminated between deliveries"] += 1
            time.sleep(2.5)  # the lease of the unrecorded event runs out
            assert _sweep_until_all_sent()
    _delivered_exactly_once(fake)
    assert len(fake.received) > len(fake.applied), "the unrecorded delivery was sent again"
    assert PartnerSyncEvent.objects.count() == 3  # no event duplicated in the outbox


# --- Redis -----------------------------------------------------------------------------------


def test_a_restarted_redis_under_a_running_worker_loses_no_change(fast_retries, operator):
    port = free_port()
    with FakeAffiliate(SECRET) as fake, broker_at(f"redis://127.0.0.1:{port}/0"), ExitStack() as after:
        members = _partner_members(fake.url, 2)
        before = ExitStack()
        before.enter_context(own_redis(port))
        with before, worker():
            _change(members, operator, 1)  # queued while Redis is up
            assert wait_for(_all_sent, timeout=30)
            before.close()  # Redis goes away under the running worker
            FAULTS["redis stopped under a running worker"] += 1
            _change(members, operator, 2)  # saved; the queueing fails quietly
            assert PartnerSyncEvent.objects.count() == 4
            after.enter_context(own_redis(port))  # back on the same port, empty
            _change(members, operator, 3)
            assert _sweep_until_all_sent(timeout=90), "the worker did not reconnect"
    assert PartnerSyncEvent.objects.count() == 6
    _delivered_exactly_once(fake)


# --- A flapping affiliate --------------------------------------------------------------------


class FlappingAffiliate(FakeAffiliate):
    """The fake affiliate, plus going away (connection refused) and losing its answer after
    applying an event (the sender sees a dropped connection and must send again)."""

    def __init__(self, secret: str):
        super().__init__(secret)
        self.port = self.server.server_address[1]
        self.lose_answers = 0
        self.down = False

    def _handler(self):
        base = super()._handler()
        fake = self

        class Handler(base):
            def do_POST(self):
                if fake.lose_answers > 0:
                    fake.lose_answers -= 1
                    self.wfile = io.BytesIO()  # applied, but the answer never leaves
                    super().do_POST()
                    self.close_connection = True
                    return
                super().do_POST()

        return Handler

    def go_down(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.down = True

    def come_back(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.down = False

    def __exit__(self, *exc):
        if not self.down:
            super().__exit__(*exc)


def test_a_flapping_affiliate_gets_every_event_exactly_once(redis_available, fast_retries, operator):
    with FlappingAffiliate(SECRET) as fake, broker_at(redis_available):
        members = _partner_members(fake.url, 4)
        stop = threading.Event()

        def flap():
            """Down (refused), up with 503s, up with lost answers, up: round and round."""
            while not stop.is_set():
                fake.go_down()
                stop.wait(0.7)
                fake.come_back()
                fake.responses.extend([503, 503])
                stop.wait(0.7)
                fake.lose_answers += 1
                stop.wait(0.7)

        flapper = threading.Thread(target=flap, daemon=True)
        with worker():
            flapper.start()
            try:
                for round_ in range(1, 4):
                    _change(members, operator, round_)
                    time.sleep(0.8)
                delivered = _sweep_until_all_sent(timeout=120)
            finally:
                stop.set()
                flapper.join(timeout=10)
                if fake.down:
                    fake.come_back()
            assert delivered
    assert PartnerSyncEvent.objects.count() == 12
    _delivered_exactly_once(fake)
    met = _faults_met()
    FAULTS.update(met)
    assert sum(met.values()) > 0 and len(fake.received) > len(fake.applied), "the flapping was felt"


def _faults_met() -> Counter:
    """The failed attempts the outbox recorded, by kind (from its history rows)."""
    errors = PartnerSyncEvent.history.exclude(last_error="").values_list("last_error", flat=True)
    met = Counter()
    for error in errors:
        if "ConnectError" in error:
            met["affiliate refused the connection"] += 1
        elif "RemoteProtocolError" in error or "ReadError" in error:
            met["affiliate applied but its answer was lost"] += 1
        elif error.startswith("HTTP 5"):
            met["affiliate answered 503"] += 1
        else:
            met[f"affiliate: {error}"] += 1
    return met
