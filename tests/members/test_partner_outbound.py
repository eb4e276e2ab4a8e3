"""Art. 10 partner sync, outbound: the protocol of DESIGN.md against a fake affiliate."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members import partner_sync, services
from members.models import (
    AffiliateBasis,
    ContractStatus,
    PartnerSyncEvent,
    ProvisionBasis,
    ProvisionRecord,
    RecipientKind,
    SyncStatus,
)
from requests import disclosure
from requests import services as request_services
from requests.rules import Kind, Outcome
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory, grant_all_consents
from tests.fake_affiliate import FakeAffiliate, free_port
from tests.requests import verified_request

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


def _partner_member(endpoint: str, **affiliate_fields):
    affiliate = AffiliateFactory(endpoint=endpoint, shared_secret=SECRET, **affiliate_fields)
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


# --- Provision records (APPI Art. 29) ------------------------------------------------------------


@pytest.mark.parametrize(("basis", "records"), [(AffiliateBasis.CONSENT, 1), (AffiliateBasis.JOINT_USE, 0)])
def test_a_consent_basis_delivery_writes_a_provision_record_and_joint_use_none(
    operator, fake, basis, records
):
    member, affiliate = _partner_member(fake.url, basis=basis)
    services.update_member(
        member, actor=operator, reason="転居の届出", phone="0312345678", city="中野区江古田"
    )
    assert not ProvisionRecord.objects.exists()  # queued is not provided
    partner_sync.deliver_due_events()
    assert ProvisionRecord.objects.filter(member=member).count() == records
    if records:
        record = ProvisionRecord.objects.get()
        event = PartnerSyncEvent.objects.get()
        assert record.recipient_kind == RecipientKind.AFFILIATE and record.recipient == affiliate.name
        assert sorted(record.items) == sorted(["電話番号", "市区町村"])
        assert record.basis == ProvisionBasis.CONSENT and record.consent_recorded
        assert record.provided_on == timezone.localdate() and record.reference == str(event.event_id)
        assert record.kept_until == record.provided_on.replace(year=record.provided_on.year + 3)
        assert record.history.get().history_user.username == "system"


@pytest.mark.parametrize("status", [500, 400])
def test_an_undelivered_event_writes_no_provision_record(operator, fake, status):
    fake.default = status
    member, _affiliate = _partner_member(fake.url)
    _change(member, operator)
    partner_sync.deliver_due_events()
    assert not ProvisionRecord.objects.exists()


def _drain_queries(events: int, fake, operator) -> int:
    affiliate = AffiliateFactory(endpoint=fake.url, shared_secret=SECRET)
    for n in range(events):
        member = MemberFactory()
        ContractFactory(member=member, affiliate=affiliate)
        _change(member, operator, phone=f"03{n:08d}")
    partner_sync.deliver_due_events(limit=1)  # the system user and the client are made before counting
    with CaptureQueriesContext(connection) as queries:
        result = partner_sync.deliver_due_events()
    assert result.sent == events - 1
    return len(queries)


def test_provision_records_are_written_set_based_with_the_batch(operator, fake, settings):
    settings.PARTNER_SYNC_TIMEOUT_SECONDS = 10  # every event is sent: a slow machine may not retry
    assert _drain_queries(3, fake, operator) == _drain_queries(12, fake, operator)
    assert ProvisionRecord.objects.count() == 15


def test_partner_provision_records_are_on_the_member_page_and_in_the_disclosure_package(
    operator, client, fake
):
    client.force_login(operator)
    member, affiliate = _partner_member(fake.url, name="さくら提携カード株式会社")
    _change(member, operator)
    partner_sync.deliver_due_events()
    page = client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert "さくら提携カード株式会社" in page.content.decode()
    _model, _fields, rows = disclosure.collect(member)["provision_records.csv"]
    assert [(r.recipient, r.recipient_kind) for r in rows] == [(affiliate.name, RecipientKind.AFFILIATE)]


# --- Stops passed on to affiliates (DESIGN "Partner cards") --------------------------------------

STOPS = [(Kind.MARKETING_STOP, "marketing"), (Kind.USAGE_STOP, "usage"), (Kind.PROVISION_STOP, "provision")]


def _approve_stop(kind, member, operator, supervisor):
    ticket = verified_request(kind, member=member, actor=operator)
    request_services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    request_services.approve(ticket, actor=supervisor)
    return ticket


@pytest.mark.parametrize(("kind", "stop"), STOPS)
def test_an_approved_stop_is_passed_on_signed_to_each_active_affiliate_holding_the_card(
    operator, supervisor, fake, kind, stop
):
    member = MemberFactory()
    grant_all_consents(member)
    holders = [AffiliateFactory(endpoint=fake.url, shared_secret=SECRET) for _ in range(2)]
    for affiliate in holders:
        ContractFactory(member=member, affiliate=affiliate)
    ContractFactory(member=member, affiliate=AffiliateFactory(endpoint=fake.url, active=False))
    ContractFactory(
        member=member,
        affiliate=AffiliateFactory(endpoint=fake.url),
        status=ContractStatus.ENDED,
        ended_on=date(2025, 3, 31),
    )
    ContractFactory(member=MemberFactory(), affiliate=AffiliateFactory(endpoint=fake.url))

    ticket = _approve_stop(kind, member, operator, supervisor)

    events = PartnerSyncEvent.objects.filter(member=member).order_by("affiliate_id")
    assert [e.affiliate_id for e in events] == [a.pk for a in holders]
    assert all(e.status == SyncStatus.PENDING for e in events)
    assert events[0].history.get().history_user == supervisor
    result = partner_sync.deliver_due_events()
    assert result.sent == 2 and fake.bad_signatures == 0
    for document in fake.received:
        assert set(document) == {"event_id", "occurred_at", "member_no", "stops"}
        assert document["member_no"] == member.member_no and document["stops"] == [stop]
    assert not ProvisionRecord.objects.exists()  # a stop notice provides no data
    assert ticket.number


def test_a_provision_stop_cancels_pending_changes_but_its_own_notice_goes_out(operator, supervisor, fake):
    member, _affiliate = _partner_member(fake.url)
    _change(member, operator, phone="0311111111")
    _approve_stop(Kind.PROVISION_STOP, member, operator, supervisor)
    partner_sync.deliver_due_events()
    assert [set(d) - {"event_id", "occurred_at", "member_no"} for d in fake.received] == [{"stops"}]
    change, notice = PartnerSyncEvent.objects.order_by("id")
    assert change.status == SyncStatus.DEAD and notice.status == SyncStatus.SENT


def test_a_stop_notice_waits_behind_the_members_earlier_events_and_is_retried(operator, supervisor, fake):
    fake.responses = [500, 500]
    member, _affiliate = _partner_member(fake.url)
    grant_all_consents(member)
    _change(member, operator, phone="0311111111")
    _approve_stop(Kind.MARKETING_STOP, member, operator, supervisor)
    partner_sync.deliver_due_events()
    assert [d.get("changes") for d in fake.received] == [{"phone": "0311111111"}]
    _drain_until_settled()
    kinds = ["stops" if "stops" in d else "changes" for d in fake.received]
    assert kinds == ["changes", "changes", "stops"] or kinds == ["changes", "changes", "changes", "stops"]
    assert set(PartnerSyncEvent.objects.values_list("status", flat=True)) == {SyncStatus.SENT}


def test_a_dead_stop_notice_can_be_replayed_after_a_provision_stop(operator, supervisor, fake):
    fake.default = 400
    member, _affiliate = _partner_member(fake.url)
    _approve_stop(Kind.PROVISION_STOP, member, operator, supervisor)
    partner_sync.deliver_due_events()
    notice = PartnerSyncEvent.objects.get()
    assert notice.status == SyncStatus.DEAD
    fake.default = 200
    partner_sync.replay(notice, actor=supervisor)
    partner_sync.deliver_due_events()
    notice.refresh_from_db()
    assert notice.status == SyncStatus.SENT


# --- Which events a drain takes ------------------------------------------------------------------


def _pending(member, affiliate, *, due=True, count=1):
    later = timezone.now() + timezone.timedelta(hours=1)
    return PartnerSyncEvent.objects.bulk_create(
        PartnerSyncEvent(
            member=member,
            affiliate=affiliate,
            payload={"member_no": member.member_no, "changes": {"city": "新宿区"}},
            next_attempt_at=timezone.now() - timezone.timedelta(seconds=1) if due else later,
        )
        for _n in range(count)
    )


def test_events_waiting_behind_an_earlier_one_do_not_starve_other_members(db, fake):
    affiliate = AffiliateFactory(endpoint=fake.url, shared_secret=SECRET)
    waiting, other = MemberFactory(), MemberFactory()
    _pending(waiting, affiliate, due=False)  # backing off: its member's later events wait behind it
    _pending(waiting, affiliate, count=3)
    (first_of_other,) = _pending(other, affiliate)
    # The first window (2 events) holds only events that must wait; the drain looks further.
    assert partner_sync.due_events(timezone.now(), 2) == [first_of_other]


@pytest.mark.parametrize(
    ("answer", "status", "error", "reason"),
    [
        (200, SyncStatus.SENT, "", "提携先へ送信"),  # one UPDATE and one INSERT … SELECT per reason
        (400, SyncStatus.DEAD, "HTTP 400", "送信不能"),  # the same, one per reason and error
        (500, SyncStatus.PENDING, "HTTP 500", "再送予定"),  # each retry its own next attempt
    ],
)
def test_each_outcome_is_recorded_with_its_history(operator, fake, answer, status, error, reason):
    fake.default = answer
    member, _affiliate = _partner_member(fake.url)
    _change(member, operator)
    partner_sync.deliver_due_events()
    event = PartnerSyncEvent.objects.get()
    assert (event.status, event.attempts, event.last_error) == (status, 1, error)
    assert (event.sent_at is not None) == (status == SyncStatus.SENT)
    latest = event.history.first()
    assert latest.history_type == "~" and latest.history_user.username == "system"
    assert (latest.status, latest.attempts, latest.last_error) == (status, 1, error)
    assert (latest.sent_at, latest.next_attempt_at) == (event.sent_at, event.next_attempt_at)
    assert latest.history_change_reason == reason


def test_provision_records_without_returned_ids_still_get_their_history(operator, fake, monkeypatch):
    """SQLite before 3.35 returns no ids from a bulk INSERT: the records go in with
    simple-history's own bulk create, and their history rows are the same."""
    monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    member, _affiliate = _partner_member(fake.url)
    _change(member, operator)
    partner_sync.deliver_due_events()
    record = ProvisionRecord.objects.get(member=member)
    created = record.history.get()
    assert created.history_type == "+" and created.history_user.username == "system"
    assert created.history_change_reason == "提携先への提供（第三者提供記録）"


@pytest.mark.postgres
def test_choosing_the_due_events_reads_in_proportion_to_them_however_fresh_the_statistics(db, fake):
    """Right after a burst of events PostgreSQL's statistics still say nothing is pending; the
    anti-join that chose them then compared every candidate with every pending event."""
    from consentoffice.devtools.bench.pages import buffers_read

    affiliate = AffiliateFactory(endpoint=fake.url, shared_secret=SECRET)
    members = [MemberFactory() for _n in range(20)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_partnersyncevent")  # nothing pending yet

    def buffers(per_member: int) -> int:
        for member in members:
            _pending(member, affiliate, count=per_member)
        with CaptureQueriesContext(connection) as captured:
            chosen = partner_sync.due_events(timezone.now(), 500)
        assert len(chosen) == len(members)  # the first event of each member
        read = buffers_read([query["sql"] for query in captured.captured_queries])
        PartnerSyncEvent.objects.all().delete()
        return read

    small, large = buffers(15), buffers(60)  # 300 and 1,200 pending events
    assert large < 6 * small, (small, large)
