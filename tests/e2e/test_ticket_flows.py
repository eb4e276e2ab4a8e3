"""The information center's main flows in a real browser."""

from __future__ import annotations

import zipfile

import pytest

from members.models import AccessLog
from requests import services as request_services
from requests.models import DisclosurePackage, Ticket
from tests.e2e.conftest import login
from tests.factories import ContactRecordFactory, MemberFactory, grant_all_consents

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _step(page, name: str) -> None:
    page.locator(f"button[data-step='{name}']").click()
    page.wait_for_load_state("networkidle")


def _open_ticket(page, member, kind: str) -> Ticket:
    page.goto(f"/admin/requests/ticket/add/?member={member.pk}&kind={kind}&channel=phone")
    page.get_by_role("button", name="保存").first.click()
    page.wait_for_load_state("networkidle")
    return Ticket.objects.get(member=member, kind=kind)


def test_disclosure_from_search_to_downloaded_package(page, shot, operator, supervisor, tmp_path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {**settings.STORAGES["private"]["OPTIONS"], "location": str(tmp_path)},
        },
    }
    member = MemberFactory(
        family_name="髙橋", given_name="花子", family_name_kana="タカハシ", given_name_kana="ハナコ"
    )
    grant_all_consents(member)
    ContactRecordFactory(member=member, summary="開示請求の方法の問い合わせ")

    login(page, operator.username)
    page.goto("/admin/members/member/")
    page.locator("#searchbar").fill("ﾀｶﾊｼ")
    page.keyboard.press("Enter")
    page.get_by_role("link", name=member.member_no).click()
    page.wait_for_load_state("networkidle")
    shot("member")

    ticket = _open_ticket(page, member, "disclosure")
    shot("ticket-received")
    _step(page, "verify_identity")
    _step(page, "record_fee_payment") if page.locator(
        "button[data-step='record_fee_payment']"
    ).count() else None
    _step(page, "build_disclosure_package")
    shot("package-built")
    assert DisclosurePackage.objects.filter(ticket=ticket).count() == 1
    # The operator who built it does not open it (issue 14): the approving supervisor checks it.
    assert page.get_by_role("link", name="ダウンロード").count() == 0
    ticket.refresh_from_db()
    if ticket.fee_amount and ticket.fee_paid_on is None:
        from django.utils import timezone

        request_services.record_fee_payment(ticket, actor=operator, paid_on=timezone.localdate())
    request_services.submit_for_approval(ticket, outcome="fulfilled", actor=operator)
    page.context.clear_cookies()
    login(page, supervisor.username)
    page.goto(f"/admin/requests/ticket/{ticket.pk}/change/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="ダウンロード").click()
    path = download_info.value.path()
    with zipfile.ZipFile(path) as archive:
        assert "05_contact_records.csv" in archive.namelist()
        assert "開示請求の方法の問い合わせ" in archive.read("05_contact_records.csv").decode("utf-8-sig")
    assert AccessLog.objects.filter(user=supervisor, action="download", member=member).exists()
    assert AccessLog.objects.filter(user=supervisor, action="view_sensitive", member=member).exists()


def test_a_refusal_is_blocked_for_its_preparer_and_approved_by_a_supervisor(page, shot, operator, supervisor):
    member = MemberFactory()
    login(page, supervisor.username)
    ticket = _open_ticket(page, member, "deletion")
    _step(page, "verify_identity")
    page.locator("select[name='outcome']").select_option("refused")
    page.locator("select[name='ground']").select_option("business")
    page.locator(
        "form:has(button[data-step='submit_for_approval']) textarea[name='reason'], "
        "form:has(button[data-step='submit_for_approval']) input[name='reason']"
    ).fill("同一内容の請求が短期間に繰り返されているため")
    _step(page, "submit_for_approval")
    shot("submitted-by-supervisor")
    assert page.locator("button[data-step='approve']").count() == 0
    assert page.locator("#ticket-approve-blocked").is_visible()

    page.context.clear_cookies()
    other = type(supervisor).objects.create_user(
        "supervisor-e2e", password="pw-for-tests-only-123", is_staff=True
    )
    other.groups.add(*supervisor.groups.all())
    login(page, other.username)
    page.goto(f"/admin/requests/ticket/{ticket.pk}/change/")
    _step(page, "approve")
    shot("approved-by-second-supervisor")
    ticket.refresh_from_db()
    assert ticket.status == "closed" and ticket.outcome == "refused"
    assert ticket.prepared_by == supervisor and ticket.approver == other
