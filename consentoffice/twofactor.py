"""Second factor (TOTP, django-otp) for the roles that see unmasked data and the audit trail.

Supervisors and the privacy officer (個人情報保護管理者) can read encrypted values in clear, approve
outcomes and browse the audit trail, so a stolen password alone must not open those doors: after
the password they enter a six-digit code from an authenticator app. Operators see masked data
only and log in with their password.

Who needs the second factor is decided by the powers a user holds (one table,
``OTP_GUARDED_PERMISSIONS``), not by a second list of role names, so a future role that is given
one of these powers is covered without anyone remembering this module.
"""

from __future__ import annotations

from base64 import b32encode
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from consentoffice import roles

# Holding any of these powers requires a verified TOTP device in the session.
OTP_GUARDED_PERMISSIONS: frozenset[str] = frozenset(
    {
        roles.VIEW_SENSITIVE,
        roles.VIEW_AUDIT,
        roles.APPROVE_TICKET,
        roles.DECIDE_APPLICATION,
        roles.PUBLISH_CONSENT_VERSION,
        roles.REPLAY_SYNC_EVENT,
    }
)

# Paths an authenticated but not yet verified user may reach: the second-factor pages themselves,
# logging out, the login page, language switching, static files and the endpoints that do not
# use a session at all (health check, partners' signed inbound calls).
OTP_EXEMPT_PREFIXES: tuple[str, ...] = (
    "/account/",
    "/admin/login/",
    "/admin/logout/",
    "/admin/jsi18n/",
    "/i18n/",
    "/static/",
    "/healthz/",
    "/partners/",
)

DEVICE_NAME = "認証アプリ"


def needs_otp(user) -> bool:
    """True for superusers and anyone holding a guarded power (supervisors, privacy officer)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(OTP_GUARDED_PERMISSIONS & user.get_all_permissions())


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app asks for it when typed in: base32, in groups of four."""
    encoded = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def start_setup(user) -> TOTPDevice:
    """The user's unconfirmed device (created on first call, the same one until confirmed)."""
    with transaction.atomic():
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def create_confirmed_device(user, *, name: str = DEVICE_NAME) -> TOTPDevice:
    """A ready device (seed_demo, tests); the user enters its secret into an authenticator app."""
    return TOTPDevice.objects.create(user=user, name=name, confirmed=True)


def verify(request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    """Check ``token`` against ``device`` (throttled by django-otp, each code usable once) and
    mark the session verified. A first successful code confirms a new device."""
    token = (token or "").strip()
    if not token.isdigit():
        device.throttle_increment(commit=True)
        return False
    with transaction.atomic():
        matched = verify_token(request.user, device.persistent_id, token)
        if matched is None:
            return False
        if not matched.confirmed:
            matched.confirmed = True
            matched.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
    # A new session key after the second factor: a key seen before it is worth nothing.
    request.session.cycle_key()
    otp_login(request, matched)
    return True


class RequireOTPMiddleware:
    """Send a user who needs the second factor and has not passed it to the code page.

    Installed after ``django_otp.middleware.OTPMiddleware``; it guards every page (admin, audit,
    dashboards and whatever is added later) except ``OTP_EXEMPT_PREFIXES``. A verified session
    costs one query (the device); an operator's the permission query the admin makes anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path_info.startswith(OTP_EXEMPT_PREFIXES)
            and not user.is_verified()
            and needs_otp(user)
        ):
            target = "otp_verify" if confirmed_device(user) else "otp_setup"
            response = redirect(target)
            response["Location"] += "?" + urlencode({"next": request.get_full_path()})
            return response
        return self.get_response(request)
