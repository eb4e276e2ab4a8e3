"""A correction prepared by an operator, approved by a supervisor, seen in the member's audit timeline."""

from __future__ import annotations

import pytest

from members.models import Member
from requests.models import Ticket
from tests.e2e.conftest import login
from tests.factories import MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NEW_ADDRESS = "2-5-8 コーポ中野101"


def _step(page, name: str) -> None:
    page.locator(f"button[data-step='{name}']").first.click()
    page.wait_for_load_state("networkidle")


def test_a_correction_applied_after_a_supervisors_approval_shows_in_the_audit_timeline(
    page, shot, operator, supervisor
):
    member = MemberFactory(address_line="1-13-22")

    login(page, operator.username)
    page.goto(f"/admin/requests/ticket/add/?member={member.pk}&kind=correction&channel=phone")
    page.get_by_role("button", name="保存").first.click()
    page.wait_for_load_state("networkidle")
    ticket = Ticket.objects.get(member=member, kind="correction")
    _step(page, "verify_identity")
    page.locator("#ticket-address-form input[name='address_line']").fill(NEW_ADDRESS)
    _step(page, "add_address_correction")
    _step(page, "accept_correction")
    _step(page, "submit_for_approval")
    shot("submitted")
    assert page.locator("ul.messagelist li.success").count() == 1
    assert Member.objects.get(pk=member.pk).address_line == "1-13-22"  # nothing applied yet

    page.context.clear_cookies()
    login(page, supervisor.username)
    page.goto(f"/admin/requests/ticket/{ticket.pk}/change/")
    _step(page, "approve")
    shot("approved")
    assert page.locator("ul.messagelist li.success").count() == 1
    assert Member.objects.get(pk=member.pk).address_line == NEW_ADDRESS

    page.goto(f"/audit/members/{member.member_no}/")
    page.wait_for_load_state("networkidle")
    shot("audit-timeline")
    # The member's change row names the ticket in its reason; its detail shows before and after.
    change = page.locator("#audit-rows tbody tr", has_text=ticket.number).filter(
        has_text="訂正請求に基づく訂正"
    )
    assert change.count() == 1
    assert change.get_by_text(supervisor.username).count() == 1
    change.get_by_role("link", name="変更内容").click()
    page.wait_for_load_state("networkidle")
    shot("audit-change")
    changed = page.locator("tr", has_text=NEW_ADDRESS)
    assert changed.count() == 1
    assert "1-13-22" in changed.inner_text()
    assert ticket.number in page.content()
