"""Login-related pages: the second-factor code, its enrolment (with a one-time code a colleague
issues on the enrolment-code page), and the lockout page.

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
from django.contrib.auth.decorators import login_required, permission_required
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

from consentoffice.accounts import twofactor
from consentoffice.core import roles
from consentoffice.core.people import display_name
from consentoffice.models import EnrolmentCode


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


def _check(request: HttpRequest, form: TokenForm, device, confirm=twofactor.verify) -> bool:
    """Validate the form and the code (``confirm``: log in with the device, or enrol it); errors
    go onto the form."""
    if not form.is_valid():
        return False
    allowed, details = device.verify_is_allowed()
    if not allowed:
        reason = (details or {}).get("reason")
        form.add_error(None, THROTTLED if reason == VerifyNotAllowed.N_FAILED_ATTEMPTS else WRONG_CODE)
        return False
    if not confirm(request, device, form.cleaned_data["otp_token"]):
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


class EnrolmentCodeForm(forms.Form):
    enrolment_code = forms.CharField(
        label=_("登録コード"),
        max_length=40,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}),
        error_messages={"required": _("登録コードを入力してください。")},
    )


WRONG_ENROLMENT_CODE = _(
    "登録コードが正しくないか、有効期限が切れているか、使用済みです。発行したスーパーバイザーに確認してください。"
)


@never_cache
@csrf_protect
@sensitive_post_parameters("otp_token", "enrolment_code")
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrolling an authenticator app: first the one-time enrolment code another supervisor or the
    privacy officer issued (the password alone is not enough), then the secret (text, otpauth URI
    and a QR code drawn here, without any outside service) and a first code, which confirms the
    device. With a device already enrolled this replaces it (a lost or new phone)."""
    early = _entry_checks(request)
    if early is not None:
        return early
    replacing = twofactor.confirmed_device(request.user) is not None
    if twofactor.claimed_code(request) is None:
        code_form = EnrolmentCodeForm(request.POST if "enrolment_code" in request.POST else None)
        if code_form.is_valid():
            if twofactor.claim_enrolment_code(request, code_form.cleaned_data["enrolment_code"]):
                return redirect(reverse("otp_setup") + "?" + urlencode({"next": _next_url(request)}))
            code_form.add_error("enrolment_code", WRONG_ENROLMENT_CODE)
        return render(
            request,
            "account/otp_enrol_code.html",
            _context(request, form=code_form, title=_("二段階認証の設定"), replacing=replacing),
        )
    device = twofactor.start_setup(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and _check(request, form, device, confirm=twofactor.enrol):
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
            replacing=replacing,
            qr_svg=mark_safe(qr_svg),  # drawn here from our own URI: no user input inside
        ),
    )


class IssueCodeForm(forms.Form):
    user = forms.TypedChoiceField(label=_("対象者"), coerce=int)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {user.pk: user for user in candidates}
        self.fields["user"].choices = [("", "---------")] + [
            (user.pk, f"{display_name(user)}（{user.get_username()}）") for user in candidates
        ]


RECENT_CODES = 20


@never_cache
@csrf_protect
@login_required
@permission_required(roles.ISSUE_ENROLMENT_CODE, raise_exception=True)
def enrolment_codes(request: HttpRequest) -> HttpResponse:
    """二段階認証の登録コード発行: a supervisor or the privacy officer issues a colleague's one-time
    code to enrol (or replace) an authenticator app. The code is shown once, on this response."""
    candidates = twofactor.enrolment_candidates(request.user)
    form = IssueCodeForm(request.POST or None, candidates=candidates)
    issued = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            target = form.candidates[form.cleaned_data["user"]]
            record, code = twofactor.issue_enrolment_code(user=target, issued_by=request.user)
            issued = {"record": record, "code": code}
            form = IssueCodeForm(candidates=candidates)
        else:
            status = 400
    recent = EnrolmentCode.objects.select_related("user", "issued_by")[:RECENT_CODES]
    response = render(
        request,
        "account/enrolment_codes.html",
        {
            **admin.site.each_context(request),
            "is_nav_sidebar_enabled": False,
            "title": _("二段階認証の登録コード"),
            "form": form,
            "issued": issued,
            "recent": recent,
            "hours": settings.OTP_ENROLMENT_CODE_HOURS,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


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
