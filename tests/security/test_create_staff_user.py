"""``manage.py create_staff_user``: the administrator's way to the first logins of an installation
(README, Production): one role each, the password from a terminal or standard input, never an
argument; a supervisor then enrols an app with ``issue_enrolment_code``."""

from __future__ import annotations

import io
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from consentoffice.accounts import twofactor
from consentoffice.core import roles
from tests.conftest import Client
from tests.security.test_auth import SETUP, _code_for_secret, _password_login, _secret_after_code

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-pass-phrase-7"


def create(monkeypatch, username: str, role: str, stdin: str = PASSWORD + "\n", **options) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = StringIO()
    call_command("create_staff_user", username, role=role, stdout=out, **options)
    return out.getvalue()


@pytest.mark.parametrize("role", roles.ROLES)
def test_the_user_gets_exactly_one_role_and_a_staff_login(monkeypatch, role):
    create(monkeypatch, "kato", role, last_name="加藤", first_name="一郎")

    user = get_user_model().objects.get(username="kato")
    assert [group.name for group in user.groups.all()] == [role]
    assert user.is_staff and not user.is_superuser and user.check_password(PASSWORD)
    assert (user.last_name, user.first_name) == ("加藤", "一郎")


def test_an_operator_logs_in_with_the_password_from_standard_input(monkeypatch):
    out = create(monkeypatch, "op-first", roles.OPERATOR)
    assert "issue_enrolment_code" not in out

    client = Client()
    response = _password_login(client, "op-first", PASSWORD)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_supervisor_enrols_an_app_with_the_code_the_administrator_issues(monkeypatch):
    out = create(monkeypatch, "sv-first", roles.SUPERVISOR)
    assert "manage.py issue_enrolment_code sv-first" in out
    code_out = StringIO()
    call_command("issue_enrolment_code", "sv-first", stdout=code_out, stderr=StringIO())
    code = code_out.getvalue().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)

    client = Client()
    _password_login(client, "sv-first", PASSWORD)
    secret = _secret_after_code(client, code)
    response = client.post(SETUP, {"otp_token": _code_for_secret(secret), "next": "/audit/"})

    assert response.status_code == 302 and response["Location"] == "/audit/"
    assert twofactor.confirmed_device(get_user_model().objects.get(username="sv-first")) is not None
    assert client.get("/audit/").status_code == 200


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "短すぎ"), ("password12345", "一般的すぎ"), ("", "短すぎ")],
)
def test_a_weak_password_creates_nobody(monkeypatch, password, message):
    with pytest.raises(CommandError, match=message):
        create(monkeypatch, "weak", roles.OPERATOR, stdin=password + "\n")
    assert not get_user_model().objects.filter(username="weak").exists()


def test_an_existing_username_is_refused_and_left_as_it_was(monkeypatch, operator):
    with pytest.raises(CommandError):
        create(monkeypatch, operator.username, roles.PRIVACY_OFFICER)
    operator.refresh_from_db()
    assert [group.name for group in operator.groups.all()] == [roles.OPERATOR]
    assert not operator.check_password(PASSWORD)


def test_at_a_terminal_the_password_is_typed_twice_and_must_match(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    typed = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    monkeypatch.setattr("sys.stdin", Terminal(""))
    with pytest.raises(CommandError, match="一致しません"):
        call_command("create_staff_user", "typo", role=roles.OPERATOR, stdout=StringIO())
    assert not get_user_model().objects.filter(username="typo").exists()

    typed = iter([PASSWORD, PASSWORD])
    call_command("create_staff_user", "typed", role=roles.OPERATOR, stdout=StringIO())
    assert get_user_model().objects.get(username="typed").check_password(PASSWORD)
