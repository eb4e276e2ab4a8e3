"""Art. 10 partner sync, inbound: /partners/<code>/member-changes answers as DESIGN.md says and
applies nothing it refuses."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import date

import pytest
from django.utils import timezone

from consentoffice.models import Notification
from members import partner_sync
from members.models import (
    AffiliateBasis,
    ContractStatus,
    DeclineReason,
    Member,
    MemberStatus,
    PartnerSyncEvent,
    ProvisionBasis,
    ProvisionRecord,
    RecipientKind,
    SyncDirection,
)
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory

SECRET = "inbound-secret"


@pytest.fixture
def setup(db):
    sender = AffiliateFactory(code="sakura", shared_secret=SECRET)
    other = AffiliateFactory(code="minato", shared_secret="other-secret")
    member = MemberFactory(phone="09011112222")
    ContractFactory(member=member, affiliate=sender)
    ContractFactory(member=member, affiliate=other)
    return sender, other, member


def _post(client, code, document=None, *, body=None, secret=SECRET, timestamp=None, signature=None):
    body = body if body is not None else json.dumps(document, ensure_ascii=False).encode()
    timestamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = signature or partner_sync.sign(secret, timestamp, body)
    return client.post(
        f"/partners/{code}/member-changes",
        data=body,
        content_type="application/json",
        headers={"X-Consentoffice-Timestamp": timestamp, "X-Consentoffice-Signature": signature},
    )


def _doc(member, **changes):
    return {
        "event_id": str(uuid.uuid4()),
        "occurred_at": timezone.now().isoformat(),
        "member_no": member.member_no,
        "changes": changes or {"phone": "03-5996-1111"},
    }


def _history_count(member):
    return Member.history.filter(id=member.pk).count()


def test_a_valid_change_is_applied_and_forwarded_to_the_other_affiliates_only(client, setup):
    sender, other, member = setup
    document = _doc(member)
    response = _post(client, "sakura", document)
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.phone == "0359961111"
    latest = member.history.first()
    assert latest.history_user.username == "affiliate-sakura"
    assert document["event_id"] in latest.history_change_reason
    outbound = PartnerSyncEvent.objects.filter(direction=SyncDirection.OUTBOUND)
    assert list(outbound.values_list("affiliate__code", flat=True)) == ["minato"]


@pytest.mark.parametrize(
    ("tamper", "status", "code"),
    [
        ({"signature": "sha256=" + "0" * 64}, 401, "bad_signature"),
        ({"secret": "wrong-secret"}, 401, "bad_signature"),
        ({"timestamp": int(time.time()) - 6 * 60}, 401, "stale_timestamp"),
        ({"signature": "garbage"}, 401, "bad_signature"),
    ],
)
def test_bad_signature_or_stale_timestamp_is_401_and_nothing_applied(client, setup, tamper, status, code):
    _sender, _other, member = setup
    before = _history_count(member)
    response = _post(client, "sakura", _doc(member), **tamper)
    assert response.status_code == status and response.json()["error"] == code
    member.refresh_from_db()
    assert member.phone == "09011112222" and _history_count(member) == before
    assert not PartnerSyncEvent.objects.exists()


def test_a_replayed_event_id_is_409_and_applied_once(client, setup):
    _sender, _other, member = setup
    document = _doc(member)
    assert _post(client, "sakura", document).status_code == 200
    before = _history_count(member)
    document["changes"] = {"phone": "0120810414"}
    response = _post(client, "sakura", document)
    assert response.status_code == 409
    member.refresh_from_db()
    assert member.phone == "0359961111" and _history_count(member) == before


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        (lambda m: {**_doc(m), "member_no": "9999999999"}, 404, "unknown_member"),
        (lambda m: _doc(m, status="closed"), 400, "forbidden_field"),
        (lambda m: _doc(m, member_no="1"), 400, "forbidden_field"),
        (lambda m: _doc(m, postal_code="12345"), 400, "invalid_value"),
        (lambda m: {"event_id": "not-a-uuid", "member_no": m.member_no, "changes": {}}, 400, "malformed"),
    ],
)
def test_refused_documents_apply_nothing(client, setup, make, status, code):
    _sender, _other, member = setup
    before = _history_count(member)
    response = _post(client, "sakura", make(member))
    assert response.status_code == status and response.json()["error"] == code
    member.refresh_from_db()
    assert member.phone == "09011112222" and _history_count(member) == before
    assert not PartnerSyncEvent.objects.exists()


def test_malformed_json_is_400(client, setup):
    response = _post(client, "sakura", body=b'{"event_id": ')
    assert response.status_code == 400 and response.json()["error"] == "malformed"


def test_an_oversized_body_is_413(client, setup):
    _sender, _other, member = setup
    document = _doc(member)
    document["padding"] = "x" * (partner_sync.MAX_BODY_BYTES + 1)
    response = _post(client, "sakura", document)
    assert response.status_code == 413
    member.refresh_from_db()
    assert member.phone == "09011112222"


@pytest.mark.parametrize(
    "how",
    [
        {},  # signed with some secret
        {"signature": "sha256=" + "0" * 64},
        {"timestamp": 1},  # stale
        {"signature": "nonsense"},
    ],
)
def test_an_unknown_affiliate_answers_exactly_as_a_bad_signature_does(client, setup, how):
    """Issue 14: the answers do not tell which affiliate codes exist."""
    _sender, _other, member = setup
    document = _doc(member)
    unknown = _post(client, "nobody", document, secret="guessed", **how)
    known = _post(client, "sakura", document, secret="guessed", **how)
    assert unknown.status_code == known.status_code == 401
    assert unknown.content == known.content
    assert sorted(unknown.headers) == sorted(known.headers)


def test_only_post_is_accepted(client, setup):
    assert client.get("/partners/sakura/member-changes").status_code == 405


# --- Scope: only the affiliate's own cardholders (DESIGN "Partner sync protocol") ---------------


def _no_card(sender, other):
    return MemberFactory()


def _other_affiliates_member(sender, other):
    member = MemberFactory()
    ContractFactory(member=member, affiliate=other)
    ContractFactory(member=member)  # and an own-brand card of ours
    return member


def _anonymized(sender, other):
    member = MemberFactory(status=MemberStatus.ANONYMIZED)
    ContractFactory(member=member, affiliate=sender)
    return member


def _provision_stopped(sender, other):
    member = MemberFactory(provision_stopped=True)
    ContractFactory(member=member, affiliate=sender)
    return member


def _declined(sender, other):
    member = MemberFactory()
    ContractFactory(
        member=member,
        affiliate=sender,
        status=ContractStatus.DECLINED,
        contracted_on=None,
        decline_reason=DeclineReason.CREDIT_JUDGEMENT,
    )
    ContractFactory(member=member, affiliate=other)
    return member


def _unknown(sender, other):
    return Member(member_no="9999999999")


def _own_cardholder(sender, other):
    member = MemberFactory()
    ContractFactory(member=member, affiliate=sender)
    return member


def _own_ended_card(sender, other):
    member = MemberFactory()
    ContractFactory(member=member, affiliate=sender, status=ContractStatus.ENDED, ended_on=date(2025, 3, 31))
    return member


SCOPE_CASES = [
    # (case, member maker, status, reason logged for supervisors)
    ("no card of its own", _no_card, 404, "not_cardholder"),
    ("another affiliate's member", _other_affiliates_member, 404, "not_cardholder"),
    ("anonymized", _anonymized, 404, "anonymized"),
    ("provision stopped", _provision_stopped, 404, "provision_stopped"),
    ("declined contract", _declined, 404, "declined_contract"),
    ("unknown number", _unknown, 404, "unknown_member"),
    ("own cardholder", _own_cardholder, 200, None),
    ("own cardholder, contract ended (not declined)", _own_ended_card, 200, None),
]


def _signed_post(client, member_no, *, timestamp):
    document = {
        "event_id": "00000000-0000-4000-8000-000000000001",
        "occurred_at": "2026-04-01T09:00:00+09:00",
        "member_no": member_no,
        "changes": {"phone": "0359961111"},
    }
    return _post(client, "sakura", document, timestamp=timestamp)


@pytest.fixture
def affiliates(db, supervisor):
    return AffiliateFactory(code="sakura", shared_secret=SECRET), AffiliateFactory(code="minato")


@pytest.mark.parametrize(("case", "make", "status", "reason"), SCOPE_CASES, ids=[c[0] for c in SCOPE_CASES])
def test_an_affiliate_changes_only_its_own_cardholders_and_all_else_looks_unknown(
    client, affiliates, caplog, case, make, status, reason
):
    sender, other = affiliates
    member = make(sender, other)
    timestamp = int(time.time())
    # The answer for a number that does not exist, taken with the same timestamp and event id.
    unknown = _signed_post(client, "9999999998", timestamp=timestamp)
    Notification.objects.all().delete()
    histories = Member.history.count()
    caplog.clear()

    with caplog.at_level(logging.WARNING, logger="members.partner_sync"):
        response = _signed_post(client, member.member_no, timestamp=timestamp)

    assert response.status_code == status
    if status == 200:
        assert PartnerSyncEvent.objects.filter(direction=SyncDirection.INBOUND).count() == 1
        assert Member.objects.get(pk=member.pk).phone == "0359961111"
        return
    assert response.content == unknown.content == b'{"error": "unknown_member"}'
    # The same headers but the request's own id (random, consentoffice.logs).
    assert _headers(response) == _headers(unknown)
    assert not PartnerSyncEvent.objects.exists()
    assert Member.history.count() == histories
    assert not ProvisionRecord.objects.exists()
    if member.pk:
        assert Member.objects.get(pk=member.pk).phone == member.phone
    [line] = [r.getMessage() for r in caplog.records if r.name == "members.partner_sync"]
    assert "affiliate=sakura" in line and f"reason={reason}" in line
    assert member.member_no not in line
    [notice] = Notification.objects.filter(kind=Notification.Kind.PARTNER_SCOPE)
    assert "sakura" in notice.title and member.member_no not in notice.title


def test_refusals_make_one_unread_notice_per_affiliate_not_one_per_request(client, affiliates, supervisor):
    timestamp = int(time.time())
    for number in ("9999999997", "9999999996", "9999999995"):
        assert _signed_post(client, number, timestamp=timestamp).status_code == 404
    [notice] = Notification.objects.filter(kind=Notification.Kind.PARTNER_SCOPE)
    assert notice.user == supervisor
    Notification.objects.update(read_at=timezone.now())
    _signed_post(client, "9999999994", timestamp=timestamp)
    assert Notification.objects.filter(kind=Notification.Kind.PARTNER_SCOPE, read_at=None).count() == 1


# --- Provision records (APPI Art. 29) ------------------------------------------------------------


@pytest.mark.parametrize(("basis", "records"), [(AffiliateBasis.CONSENT, 1), (AffiliateBasis.JOINT_USE, 0)])
def test_an_accepted_change_of_a_consent_basis_affiliate_writes_a_provision_record(
    client, setup, basis, records
):
    sender, _other, member = setup
    sender.basis = basis
    sender.save()
    document = _doc(member, phone="03-5996-1111", city="中野区江古田")
    assert _post(client, "sakura", document).status_code == 200
    assert ProvisionRecord.objects.filter(member=member).count() == records
    if records:
        record = ProvisionRecord.objects.get(member=member)
        assert record.recipient_kind == RecipientKind.AFFILIATE and record.recipient == sender.name
        assert record.basis == ProvisionBasis.CONSENT and record.consent_recorded
        assert sorted(record.items) == sorted(["電話番号", "市区町村"])
        assert record.reference == document["event_id"]
        assert record.kept_until == record.provided_on.replace(year=record.provided_on.year + 3)
        assert record.history.get().history_user.username == "affiliate-sakura"


def _headers(response) -> list[tuple[str, str]]:
    return [(name, value) for name, value in response.headers.items() if name != "X-Request-ID"]
