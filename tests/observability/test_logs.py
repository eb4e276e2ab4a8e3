"""One JSON line per request (request id, user id, route, status, duration), never personal data;
the request id on the error pages and from a trusted proxy only (docs/operations.md, Logs)."""

from __future__ import annotations

import logging
import re

import pytest

from consentoffice.logs import REQUEST_ID_PATTERN
from tests.conftest import Client
from tests.factories import MemberFactory
from tests.observability import json_lines, request_lines
from tests.ui import login

pytestmark = pytest.mark.django_db

WORKSPACE_ROUTE = "/members/<member_no:member_no>/"


def _only_line(lines, response) -> dict:
    found = [line for line in request_lines(lines) if line["request_id"] == response["X-Request-ID"]]
    assert len(found) == 1, lines
    return found[0]


def test_a_request_writes_one_json_line_with_the_route_and_user_id_and_no_member_data(client, operator):
    member = MemberFactory()
    login(client, operator)
    with json_lines() as (lines, raw):
        response = client.get(f"/members/{member.member_no}/")
    assert response.status_code == 200
    line = _only_line(lines(), response)
    assert line["level"] == "INFO" and "timestamp" in line
    assert line["user_id"] == operator.pk
    assert (line["method"], line["route"], line["view"], line["status"]) == (
        "GET",
        WORKSPACE_ROUTE,
        "member_workspace",
        200,
    )
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert REQUEST_ID_PATTERN.fullmatch(line["request_id"])
    text = raw.getvalue()
    for personal in (member.member_no, member.phone, member.given_name, operator.username):
        assert personal not in text, personal


@pytest.mark.parametrize("field", ["phone", "given_name", "member_no"])
def test_a_search_leaves_neither_the_term_nor_the_path_in_any_line(client, operator, field):
    member = MemberFactory()
    term = getattr(member, field)
    login(client, operator)
    with json_lines() as (lines, raw):
        home = client.get("/", {"q": term})
        listed = client.get("/members/", {"q": term})
        missing = client.get("/members/9999999999/", {"q": term})
    assert (home.status_code, listed.status_code, missing.status_code) == (200, 200, 404)
    parsed = lines()
    assert [_only_line(parsed, r)["route"] for r in (home, listed, missing)] == [
        "/",
        "/members/",
        WORKSPACE_ROUTE,
    ]
    text = raw.getvalue()
    assert term not in text and "9999999999" not in text and "q=" not in text
    # Django's own "Not Found" warning names the URL pattern instead of the path.
    assert any(line["logger"] == "django.request" and "route=" in line["message"] for line in parsed)


def test_every_line_written_during_a_request_carries_its_id(client, operator):
    """A line another logger writes inside the request (here: Django's 404 warning)."""
    login(client, operator)
    with json_lines() as (lines, _raw):
        response = client.get("/members/9999999999/")
    warning = next(line for line in lines() if line["logger"] == "django.request")
    assert warning["request_id"] == response["X-Request-ID"]


def test_the_403_line_stays_one_warning_without_a_traceback(client, operator):
    login(client, operator)
    with json_lines() as (lines, _raw):
        response = client.get("/dashboard/")
    assert response.status_code == 403
    warning = next(line for line in lines() if line["logger"] == "django.request")
    assert warning["message"] == f"Forbidden: route=/dashboard/ user={operator.pk}"
    assert "exc_info" not in warning and warning["request_id"] == response["X-Request-ID"]


def test_the_id_comes_from_a_trusted_proxy_only_and_only_when_well_formed(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    proxied = Client(REMOTE_ADDR="10.0.0.1")
    stranger = Client(REMOTE_ADDR="192.0.2.7")
    good = "0123456789abcdef0123456789abcdef"
    assert proxied.get("/healthz/", HTTP_X_REQUEST_ID=good)["X-Request-ID"] == good
    assert stranger.get("/healthz/", HTTP_X_REQUEST_ID=good)["X-Request-ID"] != good
    for bad in ("short", "0312345678 山田", "x" * 65, "abc\ndef0123456789abcdef"):
        answered = proxied.get("/healthz/", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert answered != bad and re.fullmatch(r"[0-9a-f]{32}", answered)


def test_each_request_gets_its_own_id(client):
    assert client.get("/healthz/")["X-Request-ID"] != client.get("/healthz/")["X-Request-ID"]


def _shown_id(response) -> str:
    found = re.search(r"<code>([A-Za-z0-9_-]{16,64})</code>", response.content.decode())
    assert found, response.content.decode()[-500:]
    return found.group(1)


def test_the_404_and_403_pages_show_the_request_id_of_the_header(client, operator):
    login(client, operator)
    for url, status in (("/members/9999999999/", 404), ("/no-such-page/", 404), ("/dashboard/", 403)):
        response = client.get(url)
        assert response.status_code == status
        assert _shown_id(response) == response["X-Request-ID"]


@pytest.mark.urls("tests.observability.urls")
def test_the_500_page_shows_the_request_id_and_the_error_line_carries_it(operator):
    client = Client(raise_request_exception=False)
    login(client, operator)
    with json_lines() as (lines, _raw):
        response = client.get("/tests/boom/")
    assert response.status_code == 500
    assert _shown_id(response) == response["X-Request-ID"]
    parsed = lines()
    error = next(line for line in parsed if line["logger"] == "django.request")
    assert error["level"] == "ERROR" and error["request_id"] == response["X-Request-ID"]
    assert "RuntimeError" in error["exc_info"]
    assert _only_line(parsed, response)["status"] == 500


def test_the_plain_format_is_the_development_default_and_json_the_production_one():
    import os
    import subprocess
    import sys

    def log_format(**env) -> str:
        code = "from django.conf import settings; print(settings.LOGGING['handlers']['console']['formatter'])"
        base = {k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "DJANGO_ENV")}
        result = subprocess.run(
            [sys.executable, "-c", f"import django; {code}"],
            env={**base, "DJANGO_SETTINGS_MODULE": "consentoffice.settings", **env},
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    production = {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": "s" * 60,
        "DJANGO_ALLOWED_HOSTS": "example.jp",
        "FIELD_ENCRYPTION_KEYS": "cHJvZHVjdGlvbi1vbmx5LWtleS1mb3ItdGhlLXRlc3RzISE=",
        "AUDIT_SEAL_KEY": "a" * 40,
    }
    assert log_format() == "plain"
    assert log_format(**production) == "json"
    assert log_format(**production, LOG_FORMAT="plain") == "plain"
    assert log_format(LOG_FORMAT="json") == "json"


def test_a_line_outside_any_request_has_no_request_id():
    with json_lines() as (lines, _raw):
        logging.getLogger("consentoffice.test").warning("outside")
    assert lines()[-1]["request_id"] is None
