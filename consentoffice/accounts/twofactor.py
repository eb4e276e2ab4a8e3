"""Second factor (TOTP, django-otp) for the roles that see unmasked data and the audit trail.

Supervisors and the privacy officer (個人情報保護管理者) can read encrypted values in clear, approve
outcomes and browse the audit trail, so a stolen password alone must not open those doors: after
the password they enter a six-digit code from an authenticator app. Operators see masked data
only and log in with their password.

Who needs the second factor is decided by the powers a user holds (one table,
``OTP_GUARDED_PERMISSIONS``), not by a second list of role names, so a future role that is given
one of these powers is covered without anyone remembering this module.

Enrolling an authenticator needs more than the password too: a one-time enrolment code issued by
another supervisor or the privacy officer (``issue_enrolment_code``). The device's key is stored
encrypted (``consentoffice.models.AuthenticatorDevice``).
"""

from __future__ import annotations

import secrets
import unicodedata
from base64 import b32encode
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import verify_token

from consentoffice.core import roles
from consentoffice.models import AuthenticatorDevice, EnrolmentCode

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
    "/metrics/",  # the scraper's: a token or this machine, never a session
    "/partners/",
)

DEVICE_NAME = "認証アプリ"

# Enrolment codes: 12 characters without look-alikes (0/O, 1/I), about 60 bits, shown in groups of 4.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
# The session of a user who has given a valid enrolment code and is setting up the app.
ENROLMENT_SESSION_KEY = "otp_enrolment_code"


def needs_otp(user) -> bool:
    """True for superusers and anyone holding a guarded power (supervisors, privacy officer)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(OTP_GUARDED_PERMISSIONS & user.get_all_permissions())


def confirmed_device(user) -> AuthenticatorDevice | None:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def secret_text(device: AuthenticatorDevice) -> str:
    """The secret as an authenticator app asks for it when typed in: base32, in groups of four."""
    encoded = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def start_setup(user) -> AuthenticatorDevice:
    """The user's unconfirmed device (created on first call, the same one until confirmed)."""
    with transaction.atomic():
        device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        if device is None:
            device = AuthenticatorDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def create_confirmed_device(user, *, name: str = DEVICE_NAME) -> AuthenticatorDevice:
    """A ready device (seed_demo, tests); the user enters its secret into an authenticator app."""
    return AuthenticatorDevice.objects.create(user=user, name=name, confirmed=True)


def _mark_verified(request: HttpRequest, device: AuthenticatorDevice) -> None:
    # A new session key after the second factor: a key seen before it is worth nothing.
    request.session.cycle_key()
    otp_login(request, device)


def _digits(device: AuthenticatorDevice, token: str) -> str | None:
    """The typed code, or None (counted as a wrong code) when it is not digits at all."""
    token = (token or "").strip()
    if token.isdigit():
        return token
    device.throttle_increment(commit=True)
    return None


def verify(request: HttpRequest, device: AuthenticatorDevice, token: str) -> bool:
    """Check ``token`` against the user's confirmed ``device`` (throttled, each code usable once)
    and mark the session verified."""
    token = _digits(device, token)
    if token is None or not device.confirmed:
        return False
    with transaction.atomic():
        matched = verify_token(request.user, device.persistent_id, token)
    if matched is None:
        return False
    _mark_verified(request, matched)
    return True


# --- Enrolment codes ---------------------------------------------------------------------------


def _normalized(code: str) -> str:
    """What the user typed, as issued: full-width folded (NFKC), upper case, no spaces or dashes."""
    text = unicodedata.normalize("NFKC", code or "").upper()
    return "".join(ch for ch in text if ch not in " -")


def _code_hash(code: str) -> str:
    return salted_hmac("consentoffice.enrolment-code", _normalized(code)).hexdigest()


def may_issue_code(issuer, user) -> bool:
    """Another person holding the power to issue (supervisors, the privacy officer) and a target
    that needs a second factor. The one place that says who may issue for whom."""
    return (
        issuer.has_perm(roles.ISSUE_ENROLMENT_CODE)
        and issuer.pk != user.pk
        and user.is_active
        and needs_otp(user)
    )


def users_needing_otp():
    """``needs_otp`` as one query: active superusers and holders of a guarded power, through a
    group or directly (the same table, ``OTP_GUARDED_PERMISSIONS``)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    holds = Q(is_superuser=True)
    for perm in OTP_GUARDED_PERMISSIONS:
        app_label, codename = perm.split(".", 1)
        holds |= Q(
            groups__permissions__content_type__app_label=app_label, groups__permissions__codename=codename
        )
        holds |= Q(user_permissions__content_type__app_label=app_label, user_permissions__codename=codename)
    ids = get_user_model().objects.filter(holds, is_active=True).values("pk")
    return get_user_model().objects.filter(pk__in=ids)


def enrolment_candidates(issuer):
    """The users ``issuer`` may issue an enrolment code for, by name (two queries, any number of
    users); ``may_issue_code`` decides again for the one chosen."""
    if not issuer.has_perm(roles.ISSUE_ENROLMENT_CODE):
        return []
    users = users_needing_otp().exclude(pk=issuer.pk)
    return list(users.order_by("last_name", "first_name", "username"))


def issue_enrolment_code(*, user, issued_by, system: bool = False) -> tuple[EnrolmentCode, str]:
    """A new one-time code for ``user``; returns the record and the code in clear (shown once).

    ``system`` is the administrator's command (``manage.py issue_enrolment_code``): the person at
    the server, not a colleague in the back-office, vouches for the user."""
    from consentoffice.core.history import save_tracked

    if not system and not may_issue_code(issued_by, user):
        raise PermissionDenied(_("この利用者の登録コードは発行できません。"))
    if system and not (user.is_active and needs_otp(user)):
        raise ValidationError(_("二段階認証が必要な有効な利用者にだけ登録コードを発行できます。"))
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    hours = settings.OTP_ENROLMENT_CODE_HOURS
    record = EnrolmentCode(
        user=user,
        code_hash=_code_hash(code),
        issued_by=issued_by,
        expires_at=timezone.now() + timedelta(hours=hours),
    )
    with transaction.atomic():
        save_tracked(record, actor=issued_by, reason=_("二段階認証の登録コードを発行"))
    return record, "-".join(code[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def _usable_codes(user):
    """The one rule of a usable enrolment code: the user's own, unused, not expired."""
    return EnrolmentCode.objects.filter(user=user, used_at__isnull=True, expires_at__gt=timezone.now())


def claim_enrolment_code(request: HttpRequest, code: str) -> bool:
    """Accept a code typed by the logged-in user: valid, unused, their own. Remembered in the
    session until the authenticator is confirmed (the code is spent then, not now)."""
    found = _usable_codes(request.user).filter(code_hash=_code_hash(code)).only("pk").first()
    if found is None:
        return False
    request.session[ENROLMENT_SESSION_KEY] = found.pk
    return True


def claimed_code(request: HttpRequest) -> EnrolmentCode | None:
    """The enrolment code this session gave, while it is still usable."""
    pk = request.session.get(ENROLMENT_SESSION_KEY)
    if pk is None:
        return None
    code = _usable_codes(request.user).filter(pk=pk).first()
    if code is None:
        request.session.pop(ENROLMENT_SESSION_KEY, None)
        return None
    return code


def enrol(request: HttpRequest, device: AuthenticatorDevice, token: str) -> bool:
    """Confirm the new ``device`` with its first code, spending the session's enrolment code.

    Any earlier device of the user stops working (a lost phone is replaced this way)."""
    from consentoffice.core.history import save_tracked

    token = _digits(device, token)
    if token is None:
        return False
    with transaction.atomic():
        code = (
            _usable_codes(request.user)
            .select_for_update()
            .filter(pk=request.session.get(ENROLMENT_SESSION_KEY))
            .first()
        )
        if code is None:
            return False
        device = AuthenticatorDevice.objects.select_for_update().get(pk=device.pk, user=request.user)
        if device.confirmed or not device.verify_token(token):
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        AuthenticatorDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
        code.used_at = timezone.now()
        save_tracked(
            code, actor=request.user, reason=_("認証アプリを登録"), update_fields=["used_at"], clean=False
        )
    request.session.pop(ENROLMENT_SESSION_KEY, None)
    _mark_verified(request, device)
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
