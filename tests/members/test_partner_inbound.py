"""Art. 10 partner sync, inbound: /partners/<code>/member-changes answers as DESIGN.md says and
applies nothing it refuses."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.utils import timezone

from members import partner_sync
from members.models import Member, PartnerSyncEvent, SyncDirection
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


def test_an_unknown_affiliate_is_404(client, setup):
    _sender, _other, member = setup
    assert _post(client, "nobody", _doc(member)).status_code == 404


def test_only_post_is_accepted(client, setup):
    assert client.get("/partners/sakura/member-changes").status_code == 405
