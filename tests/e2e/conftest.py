"""End-to-end tests: a real Chromium (Debian's /usr/bin/chromium) driven by Playwright against the
live test server. They skip on a laptop without Chromium and fail in CI (REQUIRE_SERVICES=1).
Screenshots of each screen are saved under test-artifacts/screenshots/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import need_service, totp_token

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# between browser steps are plain synchronous calls in that same thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    need_service("Chromium (/usr/bin/chromium)", path is not None)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        viewport={"width": 1366, "height": 768},
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        base_url=live_server.url,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot(page, request):
    """``shot("name")`` saves a full-page screenshot as a test artifact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}--{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def login(page, username: str, password: str = "pw-for-tests-only-123") -> None:
    """Log in as a person would: password, then for supervisors and the privacy officer the
    six-digit code of their authenticator app (computed here from the device's key), or on a
    first login an enrolment code (issued here as the administrator's command would) and the
    setup page's secret."""
    page.goto("/admin/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_load_state("networkidle")
    if "/account/otp/setup/" in page.url:
        from django.contrib.auth import get_user_model

        from consentoffice.accounts.twofactor import issue_enrolment_code
        from consentoffice.core.history import system_user

        user = get_user_model().objects.get(username=username)
        _record, code = issue_enrolment_code(user=user, issued_by=system_user(), system=True)
        page.get_by_label("登録コード").fill(code)
        page.get_by_role("button", name="次へ").click()
        page.wait_for_load_state("networkidle")
        secret = page.locator("#otp-secret").inner_text().replace(" ", "")
        page.get_by_label("確認コード（6桁）").fill(_token_from_secret(secret))
        page.get_by_role("button", name="設定を完了する").click()
        page.wait_for_load_state("networkidle")
    elif "/account/otp/" in page.url:
        from django.contrib.auth import get_user_model

        from consentoffice.accounts.twofactor import confirmed_device

        user = get_user_model().objects.get(username=username)
        page.get_by_label("確認コード（6桁）").fill(totp_token(confirmed_device(user)))
        page.get_by_role("button", name="確認").click()
        page.wait_for_load_state("networkidle")


def _token_from_secret(secret: str) -> str:
    """What an authenticator app shows for a secret typed in from the setup page."""
    import time
    from base64 import b32decode

    from django_otp.oath import TOTP

    key = b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key)
    totp.time = time.time()
    return f"{totp.token():06d}"


def takahashi_and_sato(**fields):
    """髙橋 花子 (タカハシ, found by たかはし; ``fields`` set more of her), then 佐藤 一郎 beside her;
    returns 髙橋."""
    from tests.factories import MemberFactory

    takahashi = MemberFactory(
        family_name="髙橋", given_name="花子", family_name_kana="タカハシ", given_name_kana="ハナコ", **fields
    )
    MemberFactory(
        family_name="佐藤", given_name="一郎", family_name_kana="サトウ", given_name_kana="イチロウ"
    )
    return takahashi


def takahashi_at_home():
    """髙橋 (``takahashi_and_sato``) as the workspace tests know her: her phone, her address in
    中野区, every consent given."""
    from tests.factories import grant_all_consents

    member = takahashi_and_sato(
        phone="0359961111",
        postal_code="1658555",
        prefecture="東京都",
        city="中野区江原町",
        address_line="2-1-1",
    )
    grant_all_consents(member)
    return member
