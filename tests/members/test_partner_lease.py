"""Drains running at once and a slow affiliate (issue 14): the lease is taken per claimed batch and a drain
writes back only what it still holds, so no event is posted twice and attempts stay right."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from consentoffice.core.history import system_user
from members import partner_sync
from members.models import PartnerSyncEvent, SyncStatus
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.fake_affiliate import FakeAffiliate

SECRET = "lease-test-secret"
EVENTS = 120


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_drains_with_a_slow_affiliate_post_no_event_twice(settings):
    settings.PARTNER_SYNC_TIMEOUT_SECONDS = 2.0
    settings.PARTNER_SYNC_LEASE_SECONDS = 2.5  # shorter than a batch of 50 at 0.3 s a request
    settings.PARTNER_SYNC_BACKOFF_BASE_SECONDS = 0.0
    system_user()  # made now, not by two drains racing to make it
    with FakeAffiliate(SECRET) as fake:
        fake.delay = 0.3
        affiliate = AffiliateFactory(endpoint=fake.url, shared_secret=SECRET)
        now = timezone.now()
        for n in range(EVENTS):
            member = MemberFactory()
            ContractFactory(member=member, affiliate=affiliate)
            PartnerSyncEvent.objects.create(
                member=member,
                affiliate=affiliate,
                payload={"member_no": member.member_no, "changes": {"city": f"区{n}"}},
                occurred_at=now,
                next_attempt_at=now,
            )

        def drain(wait: float):
            time.sleep(wait)
            try:
                partner_sync.deliver_due_events()
            finally:
                connection.close()

        # Two drains at once and a third that starts while they are still sending (as beat's next
        # sweep would): a batch whose lease was measured from the start of a drain had run out by
        # then, and the third drain sent it again. Again until everything is sent.
        for _round in range(6):
            drains = [threading.Thread(target=drain, args=(wait,)) for wait in (0.0, 0.0, 3.0)]
            for thread in drains:
                thread.start()
            for thread in drains:
                thread.join(timeout=120)
            pending = PartnerSyncEvent.objects.filter(status=SyncStatus.PENDING)
            if not pending.exists():
                break
            pending.update(next_attempt_at=timezone.now())

    posted = fake.event_ids()
    assert len(posted) == len(set(posted)) == EVENTS, "an event was posted twice (or never)"
    events = PartnerSyncEvent.objects.all()
    assert set(events.values_list("status", flat=True)) == {SyncStatus.SENT}
    assert set(events.values_list("attempts", flat=True)) == {1}
