"""Clicks as a test (issue 16): the common tasks of the information center in a real browser, each
counted with ``Actions`` (clicks, selections, submits; typing is recorded, not counted) and failing
above its budget. Each step leaves a screenshot; each task ends by checking the database."""

from __future__ import annotations

import pytest
from django.utils import timezone

from consentoffice.models import Notification
from members.models import AccessLog, Consent, Member
from requests import rules, services
from requests.models import CorrectionItem, DisclosurePackage, Ticket
from tests.e2e.actions import Actions
from tests.e2e.conftest import login, takahashi_at_home
from tests.requests import verified_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _opened_and_verified(page, shot, operator, task: str, kind: str, label: str) -> tuple[Member, Actions]:
    """Tasks 2–4 start on the member's workspace, already found (task 1 counts finding): the
    operator opens the request with its button and marks the identity verified."""
    member = takahashi_at_home()
    login(page, operator.username)
    page.goto(f"/members/{member.member_no}/")
    page.wait_for_load_state("networkidle")
    shot("1-workspace")
    act = Actions(page, task)
    act.click(page.locator(f"#ws-open-{kind}"), label)
    shot("2-opened")
    act.click(page.locator(_step("verify_identity")), "本人確認済みにする")
    shot("3-verified")
    return member, act


def _step(name: str):
    return f"button[data-step='{name}']"


def test_find_a_member_from_a_phone_number(page, shot, operator):
    member = takahashi_at_home()
    login(page, operator.username)
    page.goto("/")
    page.wait_for_load_state("networkidle")
    shot("1-home")

    act = Actions(page, "find-member-by-phone")
    box = page.get_by_label("会員を検索")
    act.type(box, "０３-５９９６-１１１１")
    act.submit(box, "検索（Enter）")
    shot("2-results")
    act.click(
        page.locator("#member-search-results").get_by_role("link", name=member.member_no),
        "検索結果の会員番号",
    )
    shot("3-workspace")

    assert page.url.endswith(f"/members/{member.member_no}/")
    assert AccessLog.objects.filter(user=operator, member=member, action="view").count() == 1
    act.within(3)


def test_a_disclosure_request_from_the_workspace_to_submitted_for_approval(
    page, shot, operator, tmp_path, settings
):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {**settings.STORAGES["private"]["OPTIONS"], "location": str(tmp_path)},
        },
    }
    member, act = _opened_and_verified(
        page, shot, operator, "disclosure-to-approval", rules.Kind.DISCLOSURE, "開示請求を受付"
    )
    if page.locator(_step("record_fee_payment")).count():
        form = page.locator(f"form:has({_step('record_fee_payment')})")
        act.type(form.get_by_label("入金日"), timezone.localdate().isoformat())
        act.click(page.locator(_step("record_fee_payment")), "手数料の入金を記録")
        shot("4-fee")
    act.click(page.locator(_step("build_disclosure_package")), "開示パッケージを作成")
    shot("5-package")
    act.click(page.locator(_step("submit_for_approval")), "承認を依頼")
    shot("6-submitted")

    ticket = Ticket.objects.get(member=member, kind=rules.Kind.DISCLOSURE)
    assert ticket.status == rules.Status.PENDING_APPROVAL
    assert ticket.outcome == rules.Outcome.FULFILLED
    assert ticket.identity_verified_by == operator and ticket.prepared_by == operator
    assert ticket.fee_paid_on == timezone.localdate()
    assert DisclosurePackage.objects.filter(ticket=ticket).count() == 1
    act.within(8)


def test_an_address_correction_from_the_workspace_to_submitted_for_approval(page, shot, operator):
    from playwright.sync_api import expect

    member, act = _opened_and_verified(
        page, shot, operator, "address-correction-to-approval", rules.Kind.CORRECTION, "訂正請求を受付"
    )
    form = page.locator("#ticket-address-form")
    act.type(form.get_by_label("郵便番号"), "060-0000")
    expect(form.get_by_label("市区町村")).to_have_value("札幌市中央区")
    expect(form.get_by_label("都道府県")).to_have_value("北海道")
    act.type(form.get_by_label("番地・建物名"), "北1条西2丁目 ハイツ札幌301")
    shot("4-address-typed")
    act.click(page.locator(_step("add_address_correction")), "住所の訂正項目を追加")
    shot("5-items")
    while page.locator(_step("accept_correction")).count():
        act.click(page.locator(_step("accept_correction")).first, "訂正する（1項目）")
    shot("6-decided")
    act.click(page.locator(_step("submit_for_approval")), "承認を依頼")
    shot("7-submitted")

    ticket = Ticket.objects.get(member=member, kind=rules.Kind.CORRECTION)
    assert ticket.status == rules.Status.PENDING_APPROVAL and ticket.prepared_by == operator
    items = dict(CorrectionItem.objects.filter(ticket=ticket).values_list("field", "requested_value"))
    assert items == {
        "postal_code": "0600000",
        "prefecture": "北海道",
        "city": "札幌市中央区",
        "address_line": "北1条西2丁目 ハイツ札幌301",
    }
    assert set(CorrectionItem.objects.filter(ticket=ticket).values_list("decision", flat=True)) == {
        "accepted"
    }
    assert Member.objects.get(pk=member.pk).city == "中野区江原町"  # applied on approval only
    act.within(10)


def test_a_marketing_stop_from_the_workspace_to_submitted_for_approval(page, shot, operator):
    member, act = _opened_and_verified(
        page,
        shot,
        operator,
        "marketing-stop-to-approval",
        rules.Kind.MARKETING_STOP,
        "利用停止（営業目的）を受付",
    )
    # The page says which purposes the stop will withdraw once approved.
    stops = ["当社の営業案内・宣伝物の送付", "第三者から受託した営業案内"]
    assert page.locator("#ticket-stop-preview li").all_inner_texts() == stops
    act.click(page.locator(_step("submit_for_approval")), "承認を依頼")
    shot("4-submitted")

    ticket = Ticket.objects.get(member=member, kind=rules.Kind.MARKETING_STOP)
    assert ticket.status == rules.Status.PENDING_APPROVAL and ticket.outcome == rules.Outcome.FULFILLED
    # Nothing stops before a supervisor approves.
    marketing = Consent.objects.filter(
        member=member, purpose__code__in=rules.STOP_EFFECTS[ticket.kind].purposes
    )
    assert marketing.count() == 2 and all(marketing.values_list("granted", flat=True))
    act.within(6)


def test_a_supervisors_approval_from_login_to_done(page, shot, operator, supervisor):
    member = takahashi_at_home()
    ticket = verified_request(rules.Kind.MARKETING_STOP, member=member, actor=operator)
    services.submit_for_approval(ticket, outcome=rules.Outcome.FULFILLED, actor=operator)

    login(page, supervisor.username)  # password and the second factor: not counted
    shot("1-after-login")

    act = Actions(page, "supervisor-approval")
    approvals = page.locator("#approvals")
    act.click(approvals.get_by_role("link", name=ticket.number), "承認待ちの受付票")
    shot("2-ticket")
    act.click(page.locator(_step("approve")), "承認")
    shot("3-approved")

    ticket.refresh_from_db()
    assert ticket.status == rules.Status.CLOSED and ticket.approver == supervisor
    marketing = Consent.objects.filter(
        member=member, purpose__code__in=rules.STOP_EFFECTS[ticket.kind].purposes
    )
    assert not any(marketing.values_list("granted", flat=True))
    assert Notification.objects.filter(
        user=operator, kind=Notification.Kind.APPROVED, title__contains=ticket.number
    ).exists()
    act.within(4)
