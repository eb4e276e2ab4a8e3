"""Authentication (issue 9): lockout after repeated failures (django-axes), idle session expiry,
password rules, and the TOTP second factor for supervisors and the privacy officer."""

from __future__ import annotations

import re
import uuid
from base64 import b32decode
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from consentoffice.accounts import twofactor
from consentoffice.accounts.security import SESSION_RENEW_SECONDS, SESSION_RENEWED_KEY
from consentoffice.core import crypto
from consentoffice.models import AuthenticatorDevice, EnrolmentCode
from members import demo
from tests.conftest import OTP_ROLES, TEST_PASSWORD, Client, login_as, totp_token

LOGIN = "/admin/login/"
OTP = "/account/otp/"
SETUP = "/account/otp/setup/"
ENROL_CODES = "/security/enrolment-codes/"


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


@pytest.fixture
def sessions_in_redis(settings, redis_available):
    """The production arrangement: CACHE_URL=redis://… and with it the cached_db sessions."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_available,
            "KEY_PREFIX": f"test-sessions-{uuid.uuid4()}",
        },
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    yield
    caches["default"].close()  # the test's keys expire with their sessions (30 minutes)


def _session_queries(client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]


@pytest.mark.redis
def test_with_a_shared_cache_a_request_reads_its_session_from_the_cache(sessions_in_redis, operator):
    client = Client()
    _password_login(client, operator.username)
    assert _session_queries(client, "/") == [], "the session came from the cache"
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=key).exists(), "and is kept in the database as well"


@pytest.mark.redis
def test_with_a_shared_cache_logging_out_ends_the_session_everywhere(sessions_in_redis, operator):
    client = Client()
    _password_login(client, operator.username)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.post("/admin/logout/").status_code in (200, 302)

    # Another process (a fresh client with the old cookie) finds no session, in the cache or the
    # database: the page sends it to the login.
    caches["default"].close()
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = key
    response = stale.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not Session.objects.filter(session_key=key).exists()


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


def _newcomer(django_user_model, username: str = "new-supervisor", role: str = "supervisor"):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username, password=TEST_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return django_user_model.objects.get(pk=user.pk)


def _issue_on_the_page(client, user) -> str:
    """A colleague issues ``user``'s enrolment code on the page; the code as the page shows it."""
    response = client.post(ENROL_CODES, {"user": user.pk})
    assert response.status_code == 200, response.content.decode()[:500]
    return re.search(r'<code id="enrolment-code">([A-Z0-9-]+)</code>', response.content.decode()).group(1)


def _secret_after_code(client, code: str) -> str:
    response = client.post(SETUP, {"enrolment_code": code, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"].startswith(SETUP), response
    page = client.get(SETUP).content.decode()
    return re.search(r'<code id="otp-secret">([A-Z2-7 ]+)</code>', page).group(1)


def test_the_password_alone_never_shows_an_authenticator_secret(db, django_user_model):
    newcomer = _newcomer(django_user_model)
    client = Client()

    assert _after_password(client, newcomer.username).startswith(SETUP)
    assert client.get("/admin/")["Location"].startswith(SETUP)
    page = client.get(SETUP).content.decode()

    assert 'name="enrolment_code"' in page
    assert "otp-secret" not in page and "otpauth://" not in page
    assert not AuthenticatorDevice.objects.filter(user=newcomer).exists(), "no key made before the code"
    response = client.post(SETUP, {"otp_token": "123456"})
    assert "otp-secret" not in response.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=newcomer).exists()


def test_a_code_issued_by_a_colleague_enrols_the_app_once(db, django_user_model, supervisor2):
    newcomer = _newcomer(django_user_model)
    colleague = Client()
    colleague.force_login(supervisor2)
    code = _issue_on_the_page(colleague, newcomer)
    client = Client()
    _password_login(client, newcomer.username)

    # Typed as people type it: lower case, full-width, without the dashes.
    typed = code.replace("-", "").lower().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    secret = _secret_after_code(client, typed)
    page = client.get(SETUP).content.decode()
    assert "otpauth://totp/consentoffice%3Anew-supervisor?secret=" in page
    assert "<svg" in page  # QR code drawn on the server, no outside service
    assert page.count(secret) == 1, "the same secret until confirmed"
    assert not AuthenticatorDevice.objects.filter(user=newcomer, confirmed=True).exists()

    response = client.post(SETUP, {"otp_token": _code_for_secret(secret), "next": "/admin/"})

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert AuthenticatorDevice.objects.get(user=newcomer).confirmed
    record = EnrolmentCode.objects.get(user=newcomer)
    assert record.issued_by == supervisor2 and record.used_at is not None
    history = list(record.history.order_by("history_id").values_list("history_user_id", "history_type"))
    assert history == [(supervisor2.pk, "+"), (newcomer.pk, "~")], "issue and use are both on record"
    # The code is spent: a second person with the password cannot enrol another app with it.
    thief = Client()
    _password_login(thief, newcomer.username)
    assert thief.get(SETUP).status_code == 200
    refused = thief.post(SETUP, {"enrolment_code": code})
    assert refused.status_code == 200 and "登録コードが正しくないか" in refused.content.decode()
    assert "otp-secret" not in refused.content.decode()


@pytest.mark.parametrize("case", ["wrong", "expired", "someone_elses"])
def test_a_wrong_expired_or_other_users_code_is_refused(db, django_user_model, supervisor2, case):
    newcomer = _newcomer(django_user_model)
    other = _newcomer(django_user_model, "other-officer", "privacy_officer")
    _record, code = twofactor.issue_enrolment_code(
        user=other if case == "someone_elses" else newcomer, issued_by=supervisor2
    )
    if case == "wrong":
        code = code[:-1] + ("A" if code[-1] != "A" else "B")
    if case == "expired":
        EnrolmentCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client = Client()
    _password_login(client, newcomer.username)

    response = client.post(SETUP, {"enrolment_code": code})

    assert response.status_code == 200
    assert "登録コードが正しくないか" in response.content.decode()
    assert "otp-secret" not in response.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=newcomer).exists()


def test_a_code_that_expires_during_the_setup_confirms_nothing(db, django_user_model, supervisor2):
    newcomer = _newcomer(django_user_model)
    _record, code = twofactor.issue_enrolment_code(user=newcomer, issued_by=supervisor2)
    client = Client()
    _password_login(client, newcomer.username)
    secret = _secret_after_code(client, code)
    EnrolmentCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post(SETUP, {"otp_token": _code_for_secret(secret)})

    assert response.status_code == 200
    assert 'name="enrolment_code"' in response.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=newcomer, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302


def test_a_wrong_first_code_confirms_nothing(db, django_user_model, supervisor2):
    newcomer = _newcomer(django_user_model, "new-officer", "privacy_officer")
    _record, code = twofactor.issue_enrolment_code(user=newcomer, issued_by=supervisor2)
    client = Client()
    _password_login(client, newcomer.username)
    _secret_after_code(client, code)

    response = client.post(SETUP, {"otp_token": "12345x"})

    assert response.status_code == 200
    assert not AuthenticatorDevice.objects.filter(user=newcomer, confirmed=True).exists()
    assert EnrolmentCode.objects.get(user=newcomer).used_at is None, "the code is spent only by a success"
    assert client.get("/admin/").status_code == 302


def test_a_new_phone_replaces_the_old_app_with_a_colleagues_code(supervisor, supervisor2):
    old = twofactor.confirmed_device(supervisor)
    old_code = totp_token(old)
    _record, code = twofactor.issue_enrolment_code(user=supervisor, issued_by=supervisor2)
    client = Client()
    _password_login(client, supervisor.username)
    verify_page = client.get(OTP).content.decode()
    assert 'id="otp-replace"' in verify_page

    secret = _secret_after_code(client, code)
    assert "今まで使っていた認証アプリは使えなくなります" in client.get(SETUP).content.decode()
    assert client.post(SETUP, {"otp_token": _code_for_secret(secret)})["Location"] == "/"

    assert list(AuthenticatorDevice.objects.filter(user=supervisor)) == [
        twofactor.confirmed_device(supervisor)
    ]
    assert twofactor.confirmed_device(supervisor).pk != old.pk
    later = Client()
    _password_login(later, supervisor.username)
    assert later.post(OTP, {"otp_token": old_code}).status_code == 200, "the old app's code is worthless"


def test_only_supervisors_and_the_officer_issue_and_never_for_themselves(
    operator, supervisor, supervisor2, privacy_officer
):
    clerk = Client()
    clerk.force_login(operator)
    assert clerk.get(ENROL_CODES).status_code == 403
    assert clerk.post(ENROL_CODES, {"user": supervisor.pk}).status_code == 403

    boss = Client()
    boss.force_login(supervisor)
    page = boss.get(ENROL_CODES).content.decode()
    assert f'value="{supervisor2.pk}"' in page and f'value="{privacy_officer.pk}"' in page
    assert f'value="{supervisor.pk}"' not in page, "not for oneself"
    assert f'value="{operator.pk}"' not in page, "operators have no second factor"
    for target in (supervisor, operator):
        assert boss.post(ENROL_CODES, {"user": target.pk}).status_code == 400
    with pytest.raises(PermissionDenied):
        twofactor.issue_enrolment_code(user=supervisor, issued_by=supervisor)
    with pytest.raises(PermissionDenied):
        twofactor.issue_enrolment_code(user=supervisor, issued_by=operator)
    assert not EnrolmentCode.objects.exists()

    officer = Client()
    officer.force_login(privacy_officer)
    assert _issue_on_the_page(officer, supervisor)
    listing = officer.get(ENROL_CODES).content.decode()
    assert EnrolmentCode.objects.get().issued_by == privacy_officer
    assert 'id="enrolment-code"' not in listing, "shown once, on the response that issued it"


def test_the_enrolment_code_is_kept_only_as_a_keyed_hash(supervisor, supervisor2):
    record, code = twofactor.issue_enrolment_code(user=supervisor, issued_by=supervisor2)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM consentoffice_enrolmentcode")
        stored = " ".join(str(value) for value in cursor.fetchone())
        cursor.execute("SELECT * FROM consentoffice_historicalenrolmentcode")
        history = " ".join(" ".join(str(v) for v in row) for row in cursor.fetchall())
    for form in (code, code.replace("-", "")):
        assert form not in stored and form not in history
    assert record.code_hash not in history, "the hash stays out of the audit trail"


def test_authenticator_keys_are_encrypted_at_rest(supervisor):
    device = twofactor.confirmed_device(supervisor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM consentoffice_authenticatordevice WHERE id = %s", [device.pk])
        (stored,) = cursor.fetchone()
    assert device.key not in stored and len(device.key) == 40
    assert crypto.decrypt(stored) == device.key
    assert "otp_totp_totpdevice" not in connection.introspection.table_names()


def test_the_migration_moves_clear_devices_into_encrypted_ones(db, supervisor2):
    """django-otp's table of clear keys, as an installation before this change has it: its
    devices keep working with the same secret, and the table is gone."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("consentoffice.migrations.0009_authenticator_device")
    clear_key = "3132333435363738393031323334353637383930"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE otp_totp_totpdevice (id integer PRIMARY KEY, user_id integer, name varchar(64), "
            "confirmed boolean, key varchar(80), drift smallint, last_t bigint, "
            "throttling_failure_timestamp timestamp NULL, throttling_failure_count integer)"
        )
        cursor.execute(
            "INSERT INTO otp_totp_totpdevice VALUES (1, %s, 'phone', %s, %s, 0, -1, NULL, 0)",
            [supervisor2.pk, True, clear_key],
        )
        AuthenticatorDevice.objects.filter(user=supervisor2).delete()
        editor = SimpleNamespace(connection=connection, execute=cursor.execute)

        migration.copy_clear_devices(apps, editor)

    assert "otp_totp_totpdevice" not in connection.introspection.table_names()
    moved = AuthenticatorDevice.objects.get(user=supervisor2)
    assert moved.confirmed and moved.key == clear_key and moved.name == "phone"
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM consentoffice_authenticatordevice WHERE id = %s", [moved.pk])
        assert clear_key not in cursor.fetchone()[0]


def test_the_administrators_command_issues_a_working_code_and_refuses_operators(
    db, django_user_model, operator
):
    newcomer = _newcomer(django_user_model)
    out = StringIO()
    call_command("issue_enrolment_code", newcomer.username, stdout=out, stderr=StringIO())
    code = out.getvalue().strip()
    client = Client()
    _password_login(client, newcomer.username)
    secret = _secret_after_code(client, code)
    assert client.post(SETUP, {"otp_token": _code_for_secret(secret)})["Location"] == "/"
    assert EnrolmentCode.objects.get(user=newcomer).issued_by.username == "system"

    with pytest.raises(CommandError):
        call_command("issue_enrolment_code", operator.username, stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError):
        call_command("issue_enrolment_code", "nobody-at-all", stdout=StringIO(), stderr=StringIO())


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


def test_the_set_of_users_needing_a_second_factor_is_needs_otp_as_one_query(
    db, django_user_model, operator, supervisor, privacy_officer, nobody, django_assert_num_queries
):
    from django.contrib.auth.models import Permission

    root = django_user_model.objects.create_superuser("root", password=TEST_PASSWORD)
    direct = django_user_model.objects.create_user("direct", password=TEST_PASSWORD)
    direct.user_permissions.add(Permission.objects.get(codename="view_audit_trail"))
    gone = _newcomer(django_user_model, "gone-supervisor")
    gone.is_active = False
    gone.save()
    everyone = django_user_model.objects.all()

    with django_assert_num_queries(1):
        found = set(twofactor.users_needing_otp().values_list("username", flat=True))

    expected = {u.username for u in everyone if twofactor.needs_otp(django_user_model.objects.get(pk=u.pk))}
    assert (
        found == expected == {root.username, direct.username, supervisor.username, privacy_officer.username}
    )
