"""X-Forwarded-Proto is believed only from a proxy named in DJANGO_TRUSTED_PROXIES (issue 14)."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from consentoffice.accounts.security import TrustedProxyMiddleware


def _is_secure_seen(settings, *, peer: str, proxies: list[str]) -> bool:
    settings.TRUSTED_PROXIES = proxies
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if proxies else None
    seen = {}

    def view(request):
        seen["secure"] = request.is_secure()
        return HttpResponse()

    request = RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_PROTO="https")
    TrustedProxyMiddleware(view)(request)
    return seen["secure"]


@pytest.mark.parametrize(
    ("peer", "proxies", "secure"),
    [
        ("198.51.100.20", [], False),  # no proxy named: never believed
        ("198.51.100.20", ["10.0.0.5"], False),  # a client that is not the proxy
        ("10.0.0.5", ["10.0.0.5"], True),  # the proxy itself
        ("10.0.3.9", ["10.0.0.0/16"], True),  # a proxy in a named network
        ("::1", ["127.0.0.1"], False),
        ("not-an-address", ["10.0.0.5"], False),
    ],
)
def test_the_forwarded_scheme_counts_only_from_a_trusted_proxy(settings, peer, proxies, secure):
    assert _is_secure_seen(settings, peer=peer, proxies=proxies) is secure


def test_the_middleware_runs_before_the_https_redirect(settings):
    from django.conf import settings as conf

    # Only the request log (which reads no scheme and redirects nothing) is outside it.
    assert conf.MIDDLEWARE[:3] == [
        "consentoffice.logs.RequestLogMiddleware",
        "consentoffice.accounts.security.TrustedProxyMiddleware",
        "django.middleware.security.SecurityMiddleware",
    ]


# --- The client's address behind the proxy ------------------------------------------------------


def _seen_addresses(settings, *, peer: str, proxies: list[str], real_ip: str | None) -> dict:
    from consentoffice.accounts.ratelimit import client_ip
    from consentoffice.accounts.security import from_trusted_proxy, is_direct_local

    settings.TRUSTED_PROXIES = proxies
    seen = {}

    def view(request):
        seen.update(
            remote_addr=request.META["REMOTE_ADDR"],
            client_ip=client_ip(request),
            from_proxy=from_trusted_proxy(request),
            direct_local=is_direct_local(request),
        )
        return HttpResponse()

    extra = {"HTTP_X_REAL_IP": real_ip} if real_ip is not None else {}
    TrustedProxyMiddleware(view)(RequestFactory().get("/", REMOTE_ADDR=peer, **extra))
    return seen


@pytest.mark.parametrize(
    ("peer", "proxies", "real_ip", "client"),
    [
        ("127.0.0.1", ["127.0.0.1"], "198.51.100.7", "198.51.100.7"),  # the proxy names the client
        ("10.0.3.9", ["10.0.0.0/16"], " 2001:db8::5 ", "2001:db8::5"),
        ("198.51.100.20", ["10.0.0.5"], "203.0.113.1", "198.51.100.20"),  # a client naming itself
        ("198.51.100.20", [], "203.0.113.1", "198.51.100.20"),  # no proxy named
        ("127.0.0.1", ["127.0.0.1"], "203.0.113.1, 10.0.0.1", "127.0.0.1"),  # not one address
        ("127.0.0.1", ["127.0.0.1"], "", "127.0.0.1"),
        ("127.0.0.1", ["127.0.0.1"], None, "127.0.0.1"),
    ],
)
def test_the_client_address_comes_from_a_trusted_proxy_only(settings, peer, proxies, real_ip, client):
    seen = _seen_addresses(settings, peer=peer, proxies=proxies, real_ip=real_ip)
    assert seen["remote_addr"] == seen["client_ip"] == client


def test_after_the_rewrite_the_request_is_still_known_to_have_come_through_the_proxy(settings):
    """A client the proxy names as 127.0.0.1 (a browser on the proxy's own machine) is not a
    caller on this machine: the health details and the metrics stay closed to it."""
    seen = _seen_addresses(settings, peer="127.0.0.1", proxies=["127.0.0.1"], real_ip="127.0.0.1")
    assert seen["from_proxy"] is True and seen["direct_local"] is False
    seen = _seen_addresses(settings, peer="127.0.0.1", proxies=["127.0.0.1"], real_ip="192.0.2.9")
    assert seen["from_proxy"] is True and seen["direct_local"] is False


@pytest.fixture
def behind_the_proxy(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (3, 300)}


def _login_via_proxy(client, username: str, password: str, client_address: str):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_REAL_IP=client_address,
    )


def test_behind_the_proxy_the_login_limit_counts_each_client(behind_the_proxy, operator):
    from tests.conftest import TEST_PASSWORD, Client

    for n in range(4):
        _login_via_proxy(Client(), f"sprayed{n}", "wrong-password-123", "192.0.2.20")
    assert _login_via_proxy(Client(), "sprayed9", "wrong-password-123", "192.0.2.20").status_code == 429
    # Another desk behind the same proxy is not refused for the first one's attempts.
    assert _login_via_proxy(Client(), operator.username, TEST_PASSWORD, "192.0.2.21").status_code == 302


def test_behind_the_proxy_a_lockout_locks_the_username_from_that_client_only(settings, operator):
    from django.conf import settings as conf

    from tests.conftest import TEST_PASSWORD, Client

    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    for _attempt in range(conf.AXES_FAILURE_LIMIT):
        _login_via_proxy(Client(), operator.username, "wrong-password-123", "203.0.113.66")

    assert _login_via_proxy(Client(), operator.username, TEST_PASSWORD, "203.0.113.66").status_code == 429
    # The colleague at her own desk still logs in: a stranger cannot lock her out from elsewhere.
    assert _login_via_proxy(Client(), operator.username, TEST_PASSWORD, "192.0.2.30").status_code == 302
