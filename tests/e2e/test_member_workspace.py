"""The member workspace in a real browser: found from the home, read at a glance, and the two
commonest acts — a change notification (住所変更等の届出) and a disclosure request — from it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from members.models import AccessLog, Member
from requests import rules
from requests.models import Ticket
from tests.e2e.conftest import login, takahashi_at_home
from tests.factories import (
    AffiliateFactory,
    ContactRecordFactory,
    ContractFactory,
    IdentityDocumentFactory,
)
from tests.ui import ticket as open_ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SCREEN_HEIGHT = 768


def _typical_member(operator) -> Member:
    """What a typical member has: a card, a partner card, an ID seen, a few calls and a request."""
    member = takahashi_at_home()
    ContractFactory(member=member)
    ContractFactory(member=member, affiliate=AffiliateFactory(name="みどり百貨店"))
    IdentityDocumentFactory(member=member)
    for summary in ("利用明細の問い合わせ", "住所変更の方法の問い合わせ", "カード再発行の依頼"):
        ContactRecordFactory(member=member, summary=summary)
    open_ticket(rules.Kind.MARKETING_STOP, member=member, actor=operator)
    return member


def test_an_operator_finds_a_member_files_a_move_and_opens_a_disclosure_request(page, shot, operator):
    member = _typical_member(operator)

    login(page, operator.username)
    page.goto("/")
    box = page.get_by_label("会員を検索")
    box.fill("たかはし")
    box.press("Enter")
    page.wait_for_load_state("networkidle")
    page.locator("#member-search-results").get_by_role("link", name=member.member_no).click()
    page.wait_for_load_state("networkidle")

    assert page.url.endswith(f"/members/{member.member_no}/")
    shot("workspace")
    assert page.locator("#nav-sidebar").count() == 0
    assert page.locator("#ws-identity").get_by_text("髙橋 花子").count() == 1
    assert page.locator("#member-uses tbody tr").count() == 6
    assert page.locator("#ws-tickets tbody tr").count() == 1
    assert page.locator("#ws-contact-list li").count() == 3
    # At a glance: a typical member fits the 1366×768 window, nothing to scroll.
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= SCREEN_HEIGHT, f"the workspace is {height}px high"
    assert AccessLog.objects.filter(user=operator, member=member, action="view").count() == 1

    # 住所変更等の届出: the address as a group (the postal code fills prefecture and city over the
    # member's old ones), a reason, applied at once.
    page.locator("#ws-notification summary").click()
    page.get_by_label("郵便番号").fill("060-0000")  # from 東京都中野区 to 札幌: both fields change
    expect(page.get_by_label("市区町村")).to_have_value("札幌市中央区")
    expect(page.get_by_label("都道府県")).to_have_value("北海道")
    page.get_by_label("番地・建物名").fill("北1条西2丁目")
    page.get_by_label("届出の理由").fill("電話で転居の連絡")
    shot("change-notification")
    page.locator("#ws-notification-submit").click()
    page.wait_for_load_state("networkidle")
    shot("change-notification-done")
    assert "届出を反映しました" in page.locator("ul.messagelist").inner_text()
    assert "札幌市中央区北1条西2丁目" in page.locator("#ws-address").inner_text()
    member.refresh_from_db()
    assert (member.postal_code, member.prefecture, member.city) == ("0600000", "北海道", "札幌市中央区")
    assert member.history.latest().history_change_reason == "住所変更等の届出: 電話で転居の連絡"

    # A disclosure request: the channel, then the kind; the ticket page follows.
    page.get_by_label("受付経路").select_option("phone")
    page.locator("#ws-open-disclosure").click()
    page.wait_for_load_state("networkidle")
    shot("disclosure-opened")
    opened = Ticket.objects.get(member=member, kind=rules.Kind.DISCLOSURE)
    assert page.url.endswith(f"/admin/requests/ticket/{opened.pk}/change/")
    assert (opened.channel, opened.assignee) == ("phone", operator)
    assert page.locator("#ticket-member-link").get_attribute("href") == f"/members/{member.member_no}/"
