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
