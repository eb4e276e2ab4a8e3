"""Login-related pages: the second-factor code, its first-time setup, and the lockout page.

The password step is the admin's own login page (guarded by django-axes and the login rate
limit); these pages come after it for users who need a second factor (``twofactor.needs_otp``).
"""

from __future__ import annotations

from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.models import VerifyNotAllowed

from consentoffice import twofactor


class TokenForm(forms.Form):
    otp_token = forms.CharField(
        label=_("確認コード（6桁）"),
        min_length=6,
        max_length=8,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        error_messages={
            "required": _("確認コードを入力してください。"),
            "min_length": _("確認コードは6桁の数字です。"),
            "max_length": _("確認コードは6桁の数字です。"),
        },
    )


WRONG_CODE = _("確認コードが正しくありません。認証アプリに表示されている最新のコードを入力してください。")
THROTTLED = _("確認コードの誤りが続いたため、しばらく入力できません。少し待ってからもう一度お試しください。")


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@never_cache
def login(request: HttpRequest) -> HttpResponse:
    """The admin's password page, landing on the operator home (LOGIN_REDIRECT_URL, ``/``) when
    no ``next`` is given: the admin itself would send everyone to its index."""
    if REDIRECT_FIELD_NAME in request.GET or REDIRECT_FIELD_NAME in request.POST:
        return admin.site.login(request)
    home = resolve_url(settings.LOGIN_REDIRECT_URL)
    if request.method == "GET" and admin.site.has_permission(request):
        return redirect(home)
    return admin.site.login(request, extra_context={REDIRECT_FIELD_NAME: home})


def _context(request: HttpRequest, **extra) -> dict:
    return {**admin.site.each_context(request), "next": _next_url(request), **extra}


def _check(request: HttpRequest, form: TokenForm, device) -> bool:
    """Validate the form and the code; errors go onto the form."""
    if not form.is_valid():
        return False
    allowed, details = device.verify_is_allowed()
    if not allowed:
        reason = (details or {}).get("reason")
        form.add_error(None, THROTTLED if reason == VerifyNotAllowed.N_FAILED_ATTEMPTS else WRONG_CODE)
        return False
    if not twofactor.verify(request, device, form.cleaned_data["otp_token"]):
        form.add_error("otp_token", WRONG_CODE)
        return False
    return True


def _entry_checks(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect("/admin/login/?" + urlencode({"next": _next_url(request)}))
    if not twofactor.needs_otp(request.user) or request.user.is_verified():
        return redirect(_next_url(request))
    return None


@never_cache
@csrf_protect
@sensitive_post_parameters("otp_token")
def otp_verify(request: HttpRequest) -> HttpResponse:
    """二段階認証: the code from the user's authenticator app, after the password."""
    early = _entry_checks(request)
    if early is not None:
        return early
    device = twofactor.confirmed_device(request.user)
    if device is None:
        return redirect(reverse("otp_setup") + "?" + urlencode({"next": _next_url(request)}))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and _check(request, form, device):
        return redirect(_next_url(request))
    return render(
        request,
        "account/otp_verify.html",
        _context(request, form=form, title=_("二段階認証"), username=request.user.get_username()),
    )


@never_cache
@csrf_protect
@sensitive_post_parameters("otp_token")
def otp_setup(request: HttpRequest) -> HttpResponse:
    """First login of a user who needs a second factor and has no device yet: show the secret
    (text, otpauth URI and a QR code drawn here, without any outside service) and ask for a first
    code, which confirms the device."""
    early = _entry_checks(request)
    if early is not None:
        return early
    if twofactor.confirmed_device(request.user) is not None:
        return redirect(reverse("otp_verify") + "?" + urlencode({"next": _next_url(request)}))
    device = twofactor.start_setup(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and _check(request, form, device):
        return redirect(_next_url(request))
    uri = device.config_url
    secret = twofactor.secret_text(device)
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")
    return render(
        request,
        "account/otp_setup.html",
        _context(
            request,
            form=form,
            title=_("二段階認証の設定"),
            otpauth_uri=uri,
            secret=secret,
            qr_svg=mark_safe(qr_svg),  # drawn here from our own URI: no user input inside
        ),
    )


def lockout(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes lockout page (AXES_LOCKOUT_CALLABLE): too many failed logins."""
    from django.conf import settings

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(
        request,
        "account/lockout.html",
        {
            **admin.site.each_context(request),
            "title": _("ログインが一時的に制限されています"),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": minutes,
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
