"""Art. 10 partner sync, outbound: the protocol of DESIGN.md against a fake affiliate."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from members import partner_sync, services
from members.models import PartnerSyncEvent, SyncStatus
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.fake_affiliate import FakeAffiliate, free_port

SECRET = "shared-secret-for-tests"


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.PARTNER_SYNC_TIMEOUT_SECONDS = 0.5
    settings.PARTNER_SYNC_BACKOFF_BASE_SECONDS = 0.0
    settings.PARTNER_SYNC_MAX_ATTEMPTS = 3


@pytest.fixture
def fake():
    with FakeAffiliate(SECRET) as server:
        yield server


def _partner_member(endpoint: str):
    affiliate = AffiliateFactory(endpoint=endpoint, shared_secret=SECRET)
    member = MemberFactory()
    ContractFactory(member=member, affiliate=affiliate)
    return member, affiliate


def _change(member, operator, phone="0312345678"):
    return services.update_member(member, actor=operator, reason="住所変更の届出", phone=phone)


def _drain_until_settled(rounds: int = 5):
    for _ in range(rounds):
        PartnerSyncEvent.objects.filter(status=SyncStatus.PENDING).update(next_attempt_at=timezone.now())
        partner_sync.deliver_due_events()


def test_a_change_is_delivered_with_a_valid_signature_and_the_protocol_body(operator, fake):
    member, _affiliate = _partner_member(fake.url)
    _change(member, operator)
    result = partner_sync.deliver_due_events()
    assert result.sent == 1 and fake.bad_signatures == 0
    (document,) = fake.received
    assert set(document) == {"event_id", "occurred_at", "member_no", "changes"}
    assert document["member_no"] == member.member_no and document["changes"] == {"phone": "0312345678"}
    event = PartnerSyncEvent.objects.get()
    assert event.status == SyncStatus.SENT and str(event.event_id) == document["event_id"]
    assert event.history.first().history_change_reason


@pytest.mark.parametrize("status", [200, 201, 204, 409])
def test_2xx_and_409_count_as_sent(operator, fake, status):
    fake.default = status
    member, _affiliate = _partner_member(fake.url)
    _change(member, operator)
    partner_sync.deliver_due_events()
    assert PartnerSyncEvent.objects.get().status == SyncStatus.SENT


def test_other_4xx_is_dead_at_once(operator, fake):
    fake.default = 400
    member, _affiliate = _partner_member(fake.url)
    _change(member, operator)
    partner_sync.deliver_due_events()
    event = PartnerSyncEvent.objects.get()
    assert event.status == SyncStatus.DEAD and event.attempts == 1 and "400" in event.last_error


@pytest.mark.parametrize("fault", ["500", "timeout", "refused"])
def test_failures_are_retried_with_backoff_then_dead_then_replayed(
    operator, supervisor, fake, settings, fault
):
    endpoint = fake.url
    if fault == "500":
        fake.default = 500
    elif fault == "timeout":
        fake.delay = 1.0
    else:
        endpoint = f"http://127.0.0.1:{free_port()}"
    settings.PARTNER_SYNC_BACKOFF_BASE_SECONDS = 60
    member, affiliate = _partner_member(endpoint)
    _change(member, operator)

    partner_sync.deliver_due_events()
    event = PartnerSyncEvent.objects.get()
    assert event.status == SyncStatus.PENDING and event.attempts == 1
    assert event.next_attempt_at > timezone.now() + timezone.timedelta(seconds=40)  # backoff, with jitter
    assert partner_sync.deliver_due_events().handled == 0  # not due yet

    _drain_until_settled()
    event.refresh_from_db()
    assert event.status == SyncStatus.DEAD and event.attempts == 3

    with pytest.raises(PermissionDenied):
        partner_sync.replay(event, actor=operator)
    fake.default, fake.delay = 200, 0.0
    affiliate.endpoint = fake.url
    affiliate.save()
    partner_sync.replay(event, actor=supervisor)
    partner_sync.deliver_due_events()
    event.refresh_from_db()
    assert event.status == SyncStatus.SENT


def test_events_of_one_member_reach_an_affiliate_in_order(operator, fake, settings):
    settings.PARTNER_SYNC_BACKOFF_BASE_SECONDS = 60
    fake.responses = [500]
    member, _affiliate = _partner_member(fake.url)
    _change(member, operator, phone="0311111111")
    _change(member, operator, phone="0322222222")
    partner_sync.deliver_due_events()  # the first fails and waits; the second must wait behind it
    assert [d["changes"]["phone"] for d in fake.received] == ["0311111111"]
    _drain_until_settled()
    phones = [d["changes"]["phone"] for d in fake.received]
    assert phones == ["0311111111", "0311111111", "0322222222"]


def test_a_provision_stop_halts_sync(operator, fake):
    member, _affiliate = _partner_member(fake.url)
    _change(member, operator, phone="0311111111")
    services.stop_provision(member, actor=operator, reason="提供停止請求 T0001")
    _change(member, operator, phone="0322222222")
    partner_sync.deliver_due_events()
    assert fake.received == []
    assert PartnerSyncEvent.objects.get().status == SyncStatus.DEAD


def test_the_wire_body_carries_no_more_than_the_changed_fields(operator, fake):
    member, _affiliate = _partner_member(fake.url)
    _change(member, operator)
    body = json.loads(partner_sync.wire_body(PartnerSyncEvent.objects.get()))
    assert body["changes"] == {"phone": "0312345678"} and "family_name" not in json.dumps(body)
