"""Authentication (issue 9): lockout after repeated failures (django-axes), idle session expiry,
password rules, and the TOTP second factor for supervisors and the privacy officer."""

from __future__ import annotations

import re
from base64 import b32decode
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from consentoffice import twofactor
from consentoffice.security import SESSION_RENEW_SECONDS, SESSION_RENEWED_KEY
from members import demo
from tests.conftest import OTP_ROLES, TEST_PASSWORD, Client, login_as, totp_token

LOGIN = "/admin/login/"
OTP = "/account/otp/"
SETUP = "/account/otp/setup/"


def _fail(client, username: str, *, ip: str = "127.0.0.1"):
    return client.post(
        LOGIN, {"username": username, "password": "wrong-password-123", "next": "/admin/"}, REMOTE_ADDR=ip
    )


def _password_login(client, username: str, password: str = TEST_PASSWORD, *, ip: str = "127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip)


def _after_password(client, username: str, password: str = TEST_PASSWORD) -> str:
    """Log in with the password; where the first back-office page then sends the user."""
    assert _password_login(client, username, password)["Location"] == "/admin/"
    response = client.get("/admin/")
    return response["Location"] if response.status_code == 302 else "/admin/"


def _guarded_paths() -> list[str]:
    """The back-office pages a second factor protects: the admin, the audit trail, the dashboard."""
    return [
        "/admin/",
        reverse("admin:members_member_changelist"),
        reverse("audit:history"),
        reverse("audit:access"),
        reverse("dashboard"),
    ]


# --- Lockout (django-axes) ------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_username_from_that_address_even_with_the_right_one(operator):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _fail(client, operator.username).status_code == 200  # the form again, with an error

    locked = _fail(client, operator.username)
    again = _password_login(client, operator.username)

    assert locked.status_code == 429
    assert again.status_code == 429, "the right password does not open a locked account"
    page = again.content.decode()
    assert "ログインに5回続けて失敗したため" in page
    assert "30分間停止しました" in page
    assert int(again["Retry-After"]) == 30 * 60
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_username_and_address_so_colleagues_are_not_locked_out(operator, operator2):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _fail(client, operator.username, ip="192.0.2.10")

    assert _password_login(client, operator.username, ip="192.0.2.10").status_code == 429
    assert _password_login(Client(), operator2.username, ip="192.0.2.10").status_code == 302
    assert _password_login(Client(), operator.username, ip="192.0.2.11").status_code == 302


def test_a_successful_login_resets_the_failure_count(operator):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _fail(client, operator.username)
    assert _password_login(client, operator.username).status_code == 302
    client.post(reverse("admin:logout"))
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _fail(client, operator.username)

    assert _password_login(client, operator.username).status_code == 302


def test_a_forwarded_for_header_cannot_pick_a_fresh_address(operator):
    client = Client()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN,
            {"username": operator.username, "password": "wrong-password-123"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}",
        )

    response = client.post(
        LOGIN,
        {"username": operator.username, "password": TEST_PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )

    assert response.status_code == 429


# --- Sessions -------------------------------------------------------------------------------


def test_sessions_end_after_thirty_idle_minutes_and_activity_extends_them(client, operator):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    remaining = session.expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)

    # Within a minute of the last renewal a request does not write the session again.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(minutes=20))
    assert client.get("/admin/").status_code == 200
    session.refresh_from_db()
    assert session.expire_date - timezone.now() < timedelta(minutes=21), "renewed at most once a minute"

    # 29 idle minutes later (the renewal stamp a minute old or more) the next request slides it.
    stored = client.session
    stored[SESSION_RENEWED_KEY] = stored[SESSION_RENEWED_KEY] - SESSION_RENEW_SECONDS
    stored.save()
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(minutes=1))
    assert client.get("/admin/").status_code == 200
    session.refresh_from_db()
    assert session.expire_date - timezone.now() > timedelta(minutes=29), "activity slides the expiry"

    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_the_session_cookie_is_http_only_same_site_and_ends_with_the_browser(operator):
    client = Client()
    response = _password_login(client, operator.username)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]

    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["max-age"] and not cookie["expires"]


def test_logging_in_replaces_the_session_key(operator):
    client = Client()
    client.get(LOGIN)
    client.cookies[settings.SESSION_COOKIE_NAME] = "attacker-chosen-session-key"
    _password_login(client, operator.username)

    assert client.cookies[settings.SESSION_COOKIE_NAME].value != "attacker-chosen-session-key"


# --- Passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Kj8#mq2!", "shorter than 12 characters"),
        ("password1234", "a common password"),
        ("482019375561", "entirely numeric"),
        ("tanaka.hanako1", "too similar to the username"),
    ],
)
def test_weak_passwords_are_refused(db, django_user_model, password, why):
    user = django_user_model(username="tanaka.hanako", first_name="花子", last_name="田中")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_demo_and_test_passwords_pass_the_rules_for_every_demo_user(db, django_user_model):
    for spec in demo.DEMO_USERS:
        user = django_user_model(username=spec.username, first_name=spec.first_name, last_name=spec.last_name)
        validate_password(demo.DEFAULT_DEMO_PASSWORD, user)
        validate_password(TEST_PASSWORD, user)


def test_a_short_new_password_is_refused_in_the_admin(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("admin:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "short-pw", "new_password2": "short-pw"},
    )
    operator.refresh_from_db()

    assert response.status_code == 200
    assert operator.check_password(TEST_PASSWORD)


# --- Second factor --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "supervisor", "privacy_officer", "nobody"])
def test_exactly_supervisors_and_the_privacy_officer_need_a_second_factor(
    db, request, role
):  # db: ordered with the database tests
    user = request.getfixturevalue(role)
    assert twofactor.needs_otp(user) is (role in OTP_ROLES)


def test_superusers_need_a_second_factor(db, django_user_model):
    root = django_user_model.objects.create_superuser("root", password=TEST_PASSWORD)
    assert twofactor.needs_otp(root)


@pytest.mark.parametrize("role", OTP_ROLES)
def test_without_a_code_a_supervisor_reaches_no_back_office_page(
    db, request, role
):  # db: ordered with the database tests
    user = request.getfixturevalue(role)
    client = Client()
    assert _after_password(client, user.username).startswith(OTP)

    for path in _guarded_paths():
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(OTP), path


def test_force_login_without_the_code_is_stopped_too(client, supervisor):
    client.force_login(supervisor, otp=False)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == f"{OTP}?next=%2Fadmin%2F"


@pytest.mark.parametrize("role", OTP_ROLES)
def test_with_a_valid_code_a_supervisor_reaches_the_back_office(
    db, request, role
):  # db: ordered with the database tests
    user = request.getfixturevalue(role)
    client = Client()

    response = login_as(client, user)

    assert response.status_code == 302 and response["Location"] == "/admin/"
    for path in _guarded_paths():
        assert client.get(path).status_code == 200, path


def test_an_operator_logs_in_with_the_password_only(operator):
    client = Client()

    response = _password_login(client, operator.username)

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get(OTP)["Location"] == "/"  # nothing to verify: the operator home


def test_a_wrong_code_keeps_the_door_shut(supervisor):
    client = Client()
    _password_login(client, supervisor.username)
    device = twofactor.confirmed_device(supervisor)
    wrong = f"{(int(totp_token(device)) + 1) % 1_000_000:06d}"

    response = client.post(OTP, {"otp_token": wrong, "next": "/admin/"})

    assert response.status_code == 200
    assert "確認コードが正しくありません" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_code_cannot_be_used_twice(supervisor):
    device = twofactor.confirmed_device(supervisor)
    first, second = Client(), Client()
    _password_login(first, supervisor.username)
    _password_login(second, supervisor.username)
    code = totp_token(device)

    assert first.post(OTP, {"otp_token": code})["Location"] == "/"
    assert second.post(OTP, {"otp_token": code}).status_code == 200
    assert second.get("/admin/").status_code == 302


def test_after_wrong_codes_even_the_right_one_waits(settings, supervisor):
    settings.OTP_TOTP_THROTTLE_FACTOR = 3600  # a wait far longer than the test
    client = Client()
    _password_login(client, supervisor.username)
    device = twofactor.confirmed_device(supervisor)
    client.post(OTP, {"otp_token": "000000"})

    response = client.post(OTP, {"otp_token": totp_token(device)})

    assert response.status_code == 200
    assert "しばらく入力できません" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_passing_the_second_factor_replaces_the_session_key(supervisor):
    client = Client()
    _password_login(client, supervisor.username)
    before = client.session.session_key

    login_as_response = client.post(OTP, {"otp_token": totp_token(twofactor.confirmed_device(supervisor))})

    assert login_as_response.status_code == 302
    assert client.session.session_key != before
    assert client.session[DEVICE_ID_SESSION_KEY] == twofactor.confirmed_device(supervisor).persistent_id


def test_the_code_page_never_redirects_to_another_site(supervisor):
    client = Client()
    _password_login(client, supervisor.username)

    response = client.post(
        OTP,
        {"otp_token": totp_token(twofactor.confirmed_device(supervisor)), "next": "https://evil.example/"},
    )

    assert response["Location"] == "/"


def _code_for_secret(secret_text: str) -> str:
    secret = secret_text.replace(" ", "")
    totp = TOTP(b32decode(secret + "=" * (-len(secret) % 8)))
    return f"{totp.token():06d}"


def test_first_login_without_a_device_shows_the_setup_and_a_first_code_confirms_it(db, django_user_model):
    from django.contrib.auth.models import Group

    newcomer = django_user_model.objects.create_user("new-supervisor", password=TEST_PASSWORD, is_staff=True)
    newcomer.groups.add(Group.objects.get(name="supervisor"))
    client = Client()

    assert _after_password(client, newcomer.username).startswith(SETUP)
    assert client.get("/admin/")["Location"].startswith(SETUP)
    page = client.get(SETUP).content.decode()
    secret = re.search(r'<code id="otp-secret">([A-Z2-7 ]+)</code>', page).group(1)
    assert "otpauth://totp/consentoffice%3Anew-supervisor?secret=" in page
    assert "<svg" in page  # QR code drawn on the server, no outside service
    assert client.get(SETUP).content.decode().count(secret) == 1, "the same secret until confirmed"
    assert not TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()

    response = client.post(SETUP, {"otp_token": _code_for_secret(secret), "next": "/admin/"})

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    device = TOTPDevice.objects.get(user=newcomer)
    assert device.confirmed
    later = Client()
    assert _after_password(later, newcomer.username).startswith(OTP + "?")
    assert later.get(SETUP)["Location"].startswith(OTP), "no second setup over a confirmed device"


def test_a_wrong_first_code_confirms_nothing(db, django_user_model):
    from django.contrib.auth.models import Group

    newcomer = django_user_model.objects.create_user("new-officer", password=TEST_PASSWORD, is_staff=True)
    newcomer.groups.add(Group.objects.get(name="privacy_officer"))
    client = Client()
    _password_login(client, newcomer.username)
    client.get(SETUP)

    response = client.post(SETUP, {"otp_token": "12345x"})

    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=newcomer, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302


def test_the_code_pages_send_anonymous_users_to_the_login(client):
    for path in (OTP, SETUP):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)


def test_seed_demo_prints_a_working_authenticator_secret_for_the_roles_that_need_one(db):
    out = StringIO()
    call_command("seed_demo", members=0, stdout=out)
    output = out.getvalue()

    secrets = dict(re.findall(r"^  (\w+): ([A-Z2-7 ]+)$", output, flags=re.MULTILINE))
    assert set(secrets) == {s.username for s in demo.DEMO_USERS if s.role in OTP_ROLES}
    client = Client()
    assert _after_password(client, "supervisor", demo.DEFAULT_DEMO_PASSWORD).startswith(OTP)
    response = client.post(OTP, {"otp_token": _code_for_secret(secrets["supervisor"])})
    assert response["Location"] == "/"
    assert client.get("/admin/").status_code == 200

    rerun = StringIO()
    call_command("seed_demo", members=0, stdout=rerun)
    assert f"supervisor: {secrets['supervisor']}" in rerun.getvalue(), "a rerun keeps the device"


def test_totp_code_prints_the_code_of_a_demo_device_and_refuses_in_production(settings, supervisor):
    out = StringIO()
    call_command("totp_code", supervisor.username, stdout=out)
    client = Client()
    _password_login(client, supervisor.username)
    assert client.post(OTP, {"otp_token": out.getvalue().strip()})["Location"] == "/"

    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("totp_code", supervisor.username, stdout=StringIO())


# --- Landing page ---------------------------------------------------------------------------


def test_a_login_without_next_lands_on_the_operator_home(operator):
    client = Client()
    form = client.get(LOGIN).content.decode()
    assert 'name="next" value="/"' in form

    response = client.post(LOGIN, {"username": operator.username, "password": TEST_PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.get(LOGIN)["Location"] == "/"  # already logged in


def test_a_supervisor_without_next_lands_on_the_home_after_the_second_factor(supervisor):
    client = Client()

    response = client.post(LOGIN, {"username": supervisor.username, "password": TEST_PASSWORD})
    assert response["Location"] == "/"
    assert client.get("/")["Location"] == f"{OTP}?next=%2F"
    response = client.post(
        f"{OTP}?next=%2F", {"otp_token": totp_token(twofactor.confirmed_device(supervisor))}
    )

    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_login_with_next_still_goes_there(operator):
    client = Client()

    response = client.post(
        LOGIN, {"username": operator.username, "password": TEST_PASSWORD, "next": "/admin/requests/ticket/"}
    )

    assert response["Location"] == "/admin/requests/ticket/"
