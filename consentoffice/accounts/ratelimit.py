"""A small fixed-window rate limiter on Django's cache, and the table of what it guards.

django-axes locks a *username from an address* after a few wrong passwords; this throttles an
*address* whatever usernames it tries (password spraying), and the partners' inbound endpoint
per address whatever affiliate code the URL names (a misbehaving or hostile partner system cannot
flood the workers).

Counting uses ``cache.add`` + ``cache.incr``, atomic on Redis and within one process on the
local-memory cache. ``CACHES`` uses Redis when ``CACHE_URL`` is set, so every web process shares
the counters; without it each process counts on its own (a limit per process — acceptable for
``make run``, documented in SECURITY.md). Limits come from ``settings.RATE_LIMITS`` as
``(requests, window_seconds)`` and are read on every request, so tests may override them.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the window ends


def hit(scope: str, key: str, *, limit: int, window: int, now: float | None = None) -> Decision:
    """Count one request of ``key`` in ``scope``'s current window and say whether it may pass."""
    now = time.time() if now is None else now
    window_index = int(now // window)
    cache_key = f"ratelimit:{scope}:{key}:{window_index}"
    cache = caches[getattr(settings, "RATE_LIMIT_CACHE", "default")]
    if cache.add(cache_key, 1, timeout=window + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=window + 1)
            count = 1
    retry_after = max(1, math.ceil((window_index + 1) * window - now))
    return Decision(allowed=count <= limit, count=count, limit=limit, retry_after=retry_after)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, which behind a trusted proxy is the address the proxy
    names (``consentoffice.accounts.security.TrustedProxyMiddleware``, before this middleware). A
    client-sent X-Forwarded-For or X-Real-IP is never used: it would let anyone pick a fresh
    address per request."""
    return request.META.get("REMOTE_ADDR") or "unknown"


@dataclass(frozen=True)
class Rule:
    scope: str  # key of settings.RATE_LIMITS
    methods: frozenset[str]
    path: re.Pattern
    json: bool  # answer 429 as JSON (machine clients) rather than a page

    def key(self, request: HttpRequest, match: re.Match) -> str:
        parts = [client_ip(request), *match.groups()]
        return ":".join(parts)


# What is limited: one row per endpoint (keys: client address plus the path's groups).
RULES: tuple[Rule, ...] = (
    Rule("login", frozenset({"POST"}), re.compile(r"^/admin/login/$"), json=False),
    Rule("otp", frozenset({"POST"}), re.compile(r"^/account/otp/(?:setup/)?$"), json=False),
    Rule(
        "partner_inbound",
        frozenset({"POST"}),
        # Keyed by the client address alone: a code in the URL, which the caller chooses, must
        # not open a fresh bucket.
        re.compile(r"^/partners/[-\w]+/member-changes$"),
        json=True,
    ),
)


def too_many_requests(request: HttpRequest, decision: Decision, *, json: bool) -> HttpResponse:
    if json:
        response: HttpResponse = JsonResponse(
            {"error": "rate_limited", "retry_after": decision.retry_after}, status=429
        )
    else:
        from django.contrib import admin

        body = render_to_string(
            "account/rate_limited.html",
            {
                "site_header": admin.site.site_header,
                "site_title": admin.site.site_title,
                "title": _("アクセスが集中しています"),
                "retry_after": decision.retry_after,
            },
            request=request,
        )
        response = HttpResponse(body, status=429)
    response["Retry-After"] = str(decision.retry_after)
    return response


class RateLimitMiddleware:
    """Apply ``RULES`` before the session, the database or the view is touched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        for rule in RULES:
            if request.method not in rule.methods:
                continue
            match = rule.path.match(request.path_info)
            if match is None:
                continue
            limit, window = settings.RATE_LIMITS[rule.scope]
            decision = hit(rule.scope, rule.key(request, match), limit=limit, window=window)
            if not decision.allowed:
                return too_many_requests(request, decision, json=rule.json)
        return self.get_response(request)
