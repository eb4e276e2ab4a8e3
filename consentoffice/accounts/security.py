"""Response headers Django's SecurityMiddleware and django-csp do not set.

- ``Permissions-Policy``: the back-office needs no camera, microphone, location, payment or
  other powerful browser feature; a script that got in could not ask for them either.
- ``Cross-Origin-Resource-Policy``: other sites cannot embed our responses (PDFs, CSV, JSON).
- ``Cache-Control: no-store`` on every response to a logged-in user unless a view set its own:
  pages with members' data must not stay in a shared or browser cache after logout.

The Content-Security-Policy itself is configured in settings (``CONTENT_SECURITY_POLICY``).
"""

from __future__ import annotations

import ipaddress
import time
from functools import lru_cache

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _

# Features denied to every origin (an empty allow-list), one entry per feature.
PERMISSIONS_POLICY: tuple[str, ...] = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "fullscreen",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY_HEADER = ", ".join(f"{feature}=()" for feature in PERMISSIONS_POLICY)


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


# Where ``TrustedProxyMiddleware`` keeps the peer's own address when it puts the client's, as
# the trusted proxy named it, in REMOTE_ADDR.
PEER_ADDR = "consentoffice.peer_addr"


def peer_address(request) -> str:
    """The address of whoever connected to the server: the proxy, if one passed the request on."""
    return request.META.get(PEER_ADDR) or request.META.get("REMOTE_ADDR", "")


def from_trusted_proxy(request) -> bool:
    """Whether the peer is one of ``settings.TRUSTED_PROXIES`` (addresses or networks)."""
    proxies = tuple(getattr(settings, "TRUSTED_PROXIES", ()))
    if not proxies:
        return False
    try:
        peer = ipaddress.ip_address(peer_address(request))
    except ValueError:
        return False
    return any(peer in network for network in _networks(proxies))


def proxied_client_address(request) -> str | None:
    """The client's address as a trusted proxy names it in ``X-Real-IP`` (one address, which the
    proxy sets and overwrites), or None: from anyone else, or not an address, it is ignored."""
    if not from_trusted_proxy(request):
        return None
    try:
        return str(ipaddress.ip_address(request.META.get("HTTP_X_REAL_IP", "").strip()))
    except ValueError:
        return None


def is_loopback(request) -> bool:
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


# Headers a proxy adds; a request carrying one came through a proxy, whatever REMOTE_ADDR says.
FORWARDED_HEADERS = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_REAL_IP",
)


def came_through_proxy(request) -> bool:
    """From a trusted proxy, or carrying a header only a proxy adds. ``TrustedProxyMiddleware``
    decides it before it drops an untrusted ``X-Forwarded-Proto`` (``request.forwarded``)."""
    remembered = getattr(request, "forwarded", None)
    if remembered is not None:
        return remembered
    return from_trusted_proxy(request) or any(header in request.META for header in FORWARDED_HEADERS)


def is_direct_local(request) -> bool:
    """A caller on this machine itself: loopback, and not through a proxy. A TLS proxy on the same
    host makes every visitor's request arrive from loopback, so a request from a trusted proxy, or
    carrying any forwarding header, does not count (the health details, the metrics)."""
    return is_loopback(request) and not came_through_proxy(request)


class TrustedProxyMiddleware:
    """``X-Forwarded-Proto`` and ``X-Real-IP`` count only when a proxy named in
    ``TRUSTED_PROXIES`` sent them.

    Django's ``SECURE_PROXY_SSL_HEADER`` believes the header from anyone; a client talking to the
    server directly could claim HTTPS. Here the header is dropped unless the peer is a trusted
    proxy, before SecurityMiddleware (the HTTPS redirect) or CSRF read ``request.is_secure()``.

    Behind the proxy every request arrives from the proxy's address; the client's, as the proxy
    names it in ``X-Real-IP``, becomes ``REMOTE_ADDR``, so the rate limits and the login lockout
    (django-axes reads ``REMOTE_ADDR`` only) count each client, not the whole office as one. A
    client reaching the server directly cannot choose its address: from it the header is ignored.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.forwarded = came_through_proxy(request)
        if "HTTP_X_FORWARDED_PROTO" in request.META and not from_trusted_proxy(request):
            del request.META["HTTP_X_FORWARDED_PROTO"]
        client = proxied_client_address(request)
        if client is not None:
            request.META[PEER_ADDR] = request.META.get("REMOTE_ADDR", "")
            request.META["REMOTE_ADDR"] = client
        return self.get_response(request)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY_HEADER)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store, private"
        return response


# The longest user name Django's user model holds; axes records attempted names in a column of
# 255, so a longer typed name is cut here rather than failing the login page with a 500.
USERNAME_MAX_LENGTH = 150


def axes_username(request, credentials: dict | None = None) -> str | None:
    """The user name axes counts failures for (``AXES_USERNAME_CALLABLE``)."""
    source = credentials if credentials else getattr(request, "POST", {})
    username = source.get("username") if source else None
    if username is None:
        return None
    return str(username).replace("\x00", "")[:USERNAME_MAX_LENGTH]


class RefuseNulMiddleware:
    """400 for a NUL character in the query string or a submitted form.

    No field of the back-office accepts NUL, and PostgreSQL text cannot store or compare it: left
    alone, it reaches a filter or a save and fails there as a server error. Views exempt from CSRF
    (the inbound partner endpoint) read their raw body themselves and refuse NUL in their own
    parser, so their form data is never parsed here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if _has_nul(request.GET):
            return _refused()
        if (
            request.method == "POST"
            and not getattr(view_func, "csrf_exempt", False)
            and _has_nul(request.POST)
        ):
            return _refused()
        return None


def _refused() -> HttpResponseBadRequest:
    return HttpResponseBadRequest(_("入力に使用できない文字が含まれています。"))


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in value for value in data.getlist(key)) for key in data)


# The session's idle expiry (``SESSION_COOKIE_AGE``) slides with activity, but writing the session
# row on every request (``SESSION_SAVE_EVERY_REQUEST``) cost each page three statements (BEGIN,
# UPDATE, COMMIT) for an expiry that moves by seconds. It is renewed at most this often instead,
# so a session ends between 29 and 30 idle minutes after the last request.
SESSION_RENEW_SECONDS = 60
SESSION_RENEWED_KEY = "_renewed_at"


class SessionRenewalMiddleware:
    """Marks a non-empty session modified when it was last renewed ``SESSION_RENEW_SECONDS`` ago or
    more; ``SessionMiddleware`` (before this one) then saves it with a fresh expiry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty() or response.status_code >= 500:
            return response
        now = int(time.time())
        renewed = session.get(SESSION_RENEWED_KEY)
        if not isinstance(renewed, int) or not 0 <= now - renewed < SESSION_RENEW_SECONDS:
            session[SESSION_RENEWED_KEY] = now
        return response
