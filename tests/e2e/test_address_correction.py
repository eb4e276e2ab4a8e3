"""An address correction (issue 16) in a real browser: from an open correction ticket the operator
types the new postal code (the prefecture and city fill in), adds the address as one group, decides
each item beside its values, submits; a supervisor finds it first on the home and approves it."""

from __future__ import annotations

import pytest

from consentoffice.models import Notification
from members.models import Member
from requests import rules
from requests.models import CorrectionItem
from tests.e2e.conftest import login
from tests.factories import MemberFactory
from tests.requests import open_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _press(page, step: str) -> None:
    page.locator(f"button[data-step='{step}']").first.click()
    page.wait_for_load_state("networkidle")


def test_an_address_correction_from_the_open_ticket_to_a_supervisors_approval_from_home(
    page, shot, operator, supervisor
):
    from playwright.sync_api import expect

    member = MemberFactory(
        postal_code="1658555", prefecture="東京都", city="中野区江原町", address_line="1-13-22"
    )
    ticket = open_request(rules.Kind.CORRECTION, member=member, actor=operator)

    login(page, operator.username)
    page.goto(f"/admin/requests/ticket/{ticket.pk}/change/")
    shot("1-open-ticket")
    primary = page.locator("#ticket-workplace .button.default")
    assert primary.count() == 1 and primary.get_attribute("data-step") == "verify_identity"
    _press(page, "verify_identity")

    form = page.locator("#ticket-address-form")
    form.get_by_label("郵便番号").fill("060-0000")
    # The script fills the prefecture and the city from the postal table.
    expect(form.get_by_label("市区町村")).to_have_value("札幌市中央区")
    expect(form.get_by_label("都道府県")).to_have_value("北海道")
    expect(form.locator("[data-postal-status]")).to_contain_text("北海道札幌市中央区")
    form.get_by_label("番地・建物名").fill("北1条西2丁目 ハイツ札幌301")
    shot("2-address-typed")
    _press(page, "add_address_correction")
    assert page.locator("ul.messagelist li.success").inner_text() == "住所の訂正項目を4件追加しました。"
    shot("3-items-added")

    while page.locator("button[data-step='accept_correction']").count():
        _press(page, "accept_correction")
    assert set(CorrectionItem.objects.filter(ticket=ticket).values_list("decision", flat=True)) == {
        "accepted"
    }
    # A decided item shows its decision; changing it is behind 「判断を変更」 only.
    assert page.locator("#ticket-correction-items summary", has_text="判断を変更").count() == 4
    assert (
        page.locator("#ticket-workplace .button.default").get_attribute("data-step") == "submit_for_approval"
    )
    shot("4-decided")
    _press(page, "submit_for_approval")
    assert page.locator("ul.messagelist li.success").count() == 1
    shot("5-submitted")
    assert Member.objects.get(pk=member.pk).city == "中野区江原町"  # nothing applied yet

    page.context.clear_cookies()
    login(page, supervisor.username)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    approvals = page.locator("#approvals")
    assert approvals.locator(f"[data-ticket='{ticket.number}']").count() == 1
    shot("6-supervisor-home")
    approvals.get_by_role("link", name=ticket.number).click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("#ticket-steps")
    assert page.locator("#ticket-workplace .button.default").get_attribute("data-step") == "approve"
    shot("7-approve-step")
    _press(page, "approve")
    assert page.locator("ul.messagelist li.success").count() == 1
    shot("8-approved")

    member.refresh_from_db()
    assert (member.postal_code, member.prefecture, member.city, member.address_line) == (
        "0600000",
        "北海道",
        "札幌市中央区",
        "北1条西2丁目 ハイツ札幌301",
    )
    assert Notification.objects.filter(
        user=operator, kind=Notification.Kind.APPROVED, title__contains=ticket.number
    ).exists()
