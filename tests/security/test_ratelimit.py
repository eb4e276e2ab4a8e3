"""Rate limiting (issue 9): the login and the partners' inbound endpoint answer 429 with
Retry-After once an address has used its window, and a refused call changes nothing."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.core.cache import caches
from django.utils import timezone

from consentoffice.accounts import ratelimit
from members import partner_sync
from members.models import Member
from tests.conftest import TEST_PASSWORD, Client
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory

SECRET = "ratelimit-secret"


@pytest.fixture
def tight_limits(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (3, 300), "partner_inbound": (2, 60)}
    return settings.RATE_LIMITS


def _login(client, username: str, *, ip: str = "127.0.0.1"):
    return client.post(
        "/admin/login/", {"username": username, "password": "wrong-password-123"}, REMOTE_ADDR=ip
    )


def test_the_login_answers_429_with_retry_after_once_an_address_used_its_window(tight_limits, db):
    client = Client()
    for n in range(3):
        assert _login(client, f"someone{n}").status_code == 200  # wrong password: the form again

    refused = _login(client, "someone-else")

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 300
    assert "アクセスが集中しています" in refused.content.decode()
    assert refused["Content-Security-Policy"], "a 429 page carries the security headers too"


def test_the_login_limit_counts_per_address(tight_limits, operator):
    client = Client()
    for n in range(4):
        _login(client, f"sprayed{n}", ip="192.0.2.20")

    response = client.post(
        "/admin/login/", {"username": operator.username, "password": TEST_PASSWORD}, REMOTE_ADDR="192.0.2.21"
    )

    assert response.status_code == 302


def test_showing_the_login_page_is_not_limited(tight_limits, db):
    client = Client()
    for _n in range(5):
        assert client.get("/admin/login/").status_code == 200


@pytest.fixture
def affiliate_member(db):
    affiliate = AffiliateFactory(code="sakura", shared_secret=SECRET)
    member = MemberFactory(phone="09011112222")
    ContractFactory(member=member, affiliate=affiliate)
    return affiliate, member


def _signed_post(client, member, phone: str, *, ip: str = "127.0.0.1"):
    body = json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": timezone.now().isoformat(),
            "member_no": member.member_no,
            "changes": {"phone": phone},
        }
    ).encode()
    timestamp = str(int(time.time()))
    return client.post(
        "/partners/sakura/member-changes",
        data=body,
        content_type="application/json",
        headers={
            "X-Consentoffice-Timestamp": timestamp,
            "X-Consentoffice-Signature": partner_sync.sign(SECRET, timestamp, body),
        },
        REMOTE_ADDR=ip,
    )


def test_the_partner_endpoint_answers_429_and_applies_nothing_past_the_limit(
    tight_limits, client, affiliate_member
):
    _affiliate, member = affiliate_member
    assert _signed_post(client, member, "0311112222").status_code == 200
    assert _signed_post(client, member, "0322223333").status_code == 200
    history = Member.history.filter(id=member.pk).count()

    refused = _signed_post(client, member, "0333334444")

    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    member.refresh_from_db()
    assert member.phone == "0322223333"
    assert Member.history.filter(id=member.pk).count() == history


def test_the_partner_limit_is_not_reset_by_naming_other_codes(tight_limits, client, affiliate_member):
    """Issue 14: the bucket is the client's address; codes chosen in the URL share it."""
    _affiliate, member = affiliate_member
    for code in ("a1", "a2"):
        client.post(
            f"/partners/{code}/member-changes",
            data=b"{}",
            content_type="application/json",
            REMOTE_ADDR="192.0.2.40",
        )
    assert _signed_post(client, member, "0399997777", ip="192.0.2.40").status_code == 429


def test_the_partner_limit_counts_per_address(tight_limits, client, affiliate_member):
    _affiliate, member = affiliate_member
    for n in range(3):
        _signed_post(client, member, f"031111222{n}", ip="192.0.2.30")

    assert _signed_post(client, member, "0399998888", ip="192.0.2.31").status_code == 200


def test_a_window_admits_its_limit_and_the_next_window_starts_afresh(db):
    start = 60.0 * 16_666_666 + 20  # 20 seconds into a 60-second window
    decisions = [ratelimit.hit("unit", "a", limit=2, window=60, now=start + i) for i in range(3)]

    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[2].retry_after == 38
    assert ratelimit.hit("unit", "a", limit=2, window=60, now=start + 40).allowed
    assert ratelimit.hit("unit", "b", limit=2, window=60, now=start + 2).allowed, "keys count apart"


@pytest.mark.redis
def test_counters_in_redis_are_shared_by_every_process(settings, redis_available):
    """With CACHE_URL=redis://… (production, several web processes) all count in one place."""
    settings.CACHES = {
        **settings.CACHES,
        "shared": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_available},
    }
    settings.RATE_LIMIT_CACHE = "shared"
    key, now = f"test-{uuid.uuid4()}", time.time()
    try:
        first = ratelimit.hit("unit", key, limit=2, window=60, now=now)
        # Another process would build its own client: a fresh connection sees the same count.
        caches["shared"].close()
        second = ratelimit.hit("unit", key, limit=2, window=60, now=now)
        third = ratelimit.hit("unit", key, limit=2, window=60, now=now)
    finally:
        caches["shared"].delete(f"ratelimit:unit:{key}:{int(now // 60)}")  # only our own key

    assert (first.count, second.count, third.count) == (1, 2, 3)
    assert not third.allowed
