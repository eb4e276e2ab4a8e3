"""An operator opens the member list from the header, searches by kana in hiragana, selects the
page's members with the header checkbox and opens a member."""

from __future__ import annotations

import pytest

from members.models import AccessLog
from tests.e2e.conftest import login, takahashi_and_sato
from tests.e2e.test_home_and_dashboard import UNLABELLED_JS
from tests.factories import MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_operator_searches_the_member_list_selects_all_and_opens_a_member(page, shot, operator):
    member = takahashi_and_sato()
    MemberFactory(family_name="高木", given_name="次郎", family_name_kana="タカギ", given_name_kana="ジロウ")

    login(page, operator.username)
    link = page.locator("#link-members")
    if link.count():
        link.click()
    else:
        page.goto("/members/")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/members/")
    assert page.locator("#member-list tbody tr").count() == 3
    assert page.evaluate(UNLABELLED_JS) == []
    select_all = page.get_by_label("このページの会員をすべて選択")
    boxes = page.locator("input.member-select")
    assert boxes.count() == 3
    select_all.check()
    assert [boxes.nth(n).is_checked() for n in range(3)] == [True, True, True]
    boxes.nth(1).uncheck()  # one row cleared: the header box is cleared too
    assert not select_all.is_checked()
    shot("list")

    box = page.get_by_label("会員を検索")
    box.fill("たかはし")
    box.press("Enter")
    page.wait_for_load_state("networkidle")
    shot("search-results")
    rows = page.locator("#member-list tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("th").inner_text() == member.member_no
    assert page.evaluate(UNLABELLED_JS) == []
    assert AccessLog.objects.get(user=operator, action="search").detail == "kind=kana hits=1 via=list"

    assert boxes.count() == 1 and not boxes.first.is_checked()
    select_all.check()
    assert boxes.first.is_checked()
    select_all.uncheck()
    assert not boxes.first.is_checked()
    boxes.first.check()  # ticking every row ticks the header box
    assert select_all.is_checked()
    shot("selected")

    page.get_by_role("link", name=member.member_no).click()
    page.wait_for_load_state("networkidle")
    shot("member-page")
    assert page.url.endswith(f"/members/{member.member_no}/")  # the member workspace
    assert "髙橋" in page.content()
    assert AccessLog.objects.filter(member=member, user=operator, action="view").count() == 1
