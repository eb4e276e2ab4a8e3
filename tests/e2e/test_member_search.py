"""An operator logs in, finds a member by kana typed in hiragana, and opens the member page."""

from __future__ import annotations

import pytest

from members.models import AccessLog
from tests.e2e.conftest import login, takahashi_and_sato

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_operator_finds_a_member_by_kana_and_the_view_is_logged(page, shot, operator):
    member = takahashi_and_sato()

    login(page, operator.username)
    shot("login-done")
    page.goto("/admin/members/member/")
    page.locator("#searchbar").fill("たかはし")
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    shot("search-results")
    results = page.locator("#result_list tbody tr")
    assert results.count() == 1
    page.get_by_role("link", name=member.member_no).click()
    page.wait_for_load_state("networkidle")
    shot("member-page")
    assert "髙橋" in page.content()
    assert AccessLog.objects.filter(member=member, user=operator, action="view").count() == 1
    assert AccessLog.objects.filter(user=operator, action="search", member=None).exists()
