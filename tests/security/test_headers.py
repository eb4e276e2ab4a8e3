"""Security headers and the production configuration (issue 9): a Content-Security-Policy with no
inline script, framing forbidden, the browser's powerful features denied, no caching of pages
shown to a logged-in user, HSTS/SSL redirect/secure cookies and a clean ``check --deploy`` in
production."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import MemberFactory
from tests.test_settings import good_values, production_env

REPO_ROOT = Path(__file__).resolve().parents[2]


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in policy.split(";")) if part}


def _assert_security_headers(response) -> None:
    csp = _directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"], "no inline or eval'd script, no other origin"
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_the_login_page_carries_every_security_header(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    _assert_security_headers(response)


def test_back_office_pages_carry_the_headers_and_are_never_cached(client, supervisor):
    member = MemberFactory()
    client.force_login(supervisor)
    for url in (
        "/admin/",
        reverse("admin:members_member_changelist"),
        reverse("admin:members_member_change", args=[member.pk]),
        "/account/otp/",
    ):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        _assert_security_headers(response)
        assert "no-store" in response["Cache-Control"], url


def test_the_partner_endpoint_answers_with_the_headers_too(client, db):
    response = client.post("/partners/unknown/member-changes", data=b"{}", content_type="application/json")
    assert response.status_code in {400, 401, 404}
    assert response["X-Content-Type-Options"] == "nosniff"
    assert _directives(response)["frame-ancestors"] == ["'none'"]


class _InlineScriptFinder(HTMLParser):
    """Collects what a strict script-src would block: inline <script> bodies, on* handlers and
    javascript: links."""

    def __init__(self):
        super().__init__()
        self.blocked: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            kind = attributes.get("type") or "text/javascript"
            self._in_inline_script = "src" not in attributes and "json" not in kind
        for name, value in attrs:
            if name.startswith("on"):
                self.blocked.append(f"<{tag} {name}=…>")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith("javascript:"):
                self.blocked.append(f"<{tag} {name}=javascript:…>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.blocked.append(f"<script>{data.strip()[:60]}</script>")


def _blocked_script(html: str) -> list[str]:
    finder = _InlineScriptFinder()
    finder.feed(html)
    return finder.blocked


def test_the_admin_pages_need_no_inline_script(client, supervisor):
    member = MemberFactory()
    client.force_login(supervisor)
    pages = [
        "/admin/",
        reverse("admin:members_member_changelist"),
        reverse("admin:members_member_change", args=[member.pk]),
        reverse("admin:members_member_add"),
        reverse("admin:requests_ticket_changelist"),
        reverse("admin:requests_ticket_add"),
        reverse("admin:password_change"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _blocked_script(response.content.decode()) == [], url


def test_the_login_and_second_factor_pages_need_no_inline_script(client, db, django_user_model):
    from django.contrib.auth.models import Group

    assert _blocked_script(client.get(reverse("admin:login")).content.decode()) == []
    newcomer = django_user_model.objects.create_user("setup-user", password="pw-for-tests-only-123")
    newcomer.groups.add(Group.objects.get(name="supervisor"))
    client.force_login(newcomer)
    assert _blocked_script(client.get("/account/otp/setup/").content.decode()) == []


def test_no_project_template_holds_inline_script():
    offenders = []
    for root in [REPO_ROOT / "templates", *REPO_ROOT.glob("*/templates")]:
        for path in root.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            for tag in re.findall(r"<script\b[^>]*>", text):
                if "src=" not in tag and "json" not in tag:
                    offenders.append(f"{path.relative_to(REPO_ROOT)}: {tag}")
            if re.search(r"\son[a-z]+\s*=", text):
                offenders.append(f"{path.relative_to(REPO_ROOT)}: on* handler attribute")
    assert offenders == []


# --- No inline style either (issue 14) -------------------------------------------------------


def _inline_styles(html: str) -> list[str]:
    """Inline style the policy would block: style attributes, and <style> blocks whose SHA-256
    the policy does not name."""
    import base64
    import hashlib

    from django.conf import settings

    allowed = set(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"])
    found = [f"attribute: {m}" for m in re.findall(r"<[a-z]+\b[^>]*\sstyle=[^>]*>", html)]
    for block in re.findall(r"<style>(.*?)</style>", html, re.S):
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        if f"'sha256-{digest}'" not in allowed:
            found.append(f"block: {block.strip()[:60]}")
    return found


def test_the_policy_allows_no_inline_style_and_the_pages_need_none(client, privacy_officer):
    assert "'unsafe-inline'" not in _directives(client.get(reverse("admin:login")))["style-src"]
    member = MemberFactory()
    client.force_login(privacy_officer)
    pages = [
        "/",
        "/dashboard/",
        "/members/",
        "/members/extract/",
        "/audit/",
        "/audit/access/",
        f"/audit/members/{member.member_no}/",
        reverse("admin:members_member_changelist"),
        reverse("admin:members_member_change", args=[member.pk]),
        reverse("admin:requests_ticket_changelist"),
        reverse("admin:requests_ticket_add"),
        reverse("admin:members_purpose_changelist"),  # a list without actions: Django's own block
        reverse("admin:members_partnersyncevent_changelist"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _inline_styles(response.content.decode()) == [], url
    client.logout()
    assert _inline_styles(client.get(reverse("admin:login")).content.decode()) == []


def test_no_project_template_holds_inline_style():
    offenders = []
    for root in [REPO_ROOT / "templates", *REPO_ROOT.glob("*/templates")]:
        for path in root.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            if "<style" in text or re.search(r"\sstyle=", text):
                offenders.append(str(path.relative_to(REPO_ROOT)))
    assert offenders == []


# --- Production ------------------------------------------------------------------------------


def _production_env() -> dict[str, str]:
    return production_env(**good_values())


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=REPO_ROOT, env=_production_env(), capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_in_production_mode():
    result = _run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_turns_on_hsts_ssl_redirect_and_secure_cookies():
    script = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.DEBUG]))"
    )
    result = _run([sys.executable, "-c", script])
    assert result.returncode == 0, result.stderr
    ssl_redirect, hsts, subdomains, session_secure, csrf_secure, httponly, debug = __import__("json").loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert ssl_redirect and hsts >= 31_536_000 and subdomains
    assert session_secure and csrf_secure and httponly
    assert debug is False


@pytest.mark.django_db
def test_with_the_production_security_settings_http_is_redirected_and_https_gets_hsts(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True

    plain = client.get(reverse("admin:login"))
    secure = client.get(reverse("admin:login"), secure=True)

    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
