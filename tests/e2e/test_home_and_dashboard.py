"""The operator home and the supervisors' dashboard in a real browser, with screenshots."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from members.models import AccessLog
from requests import rules, services
from requests.models import Ticket
from requests.reminders import send_deadline_reminders
from tests.e2e.conftest import login, takahashi_and_sato
from tests.factories import MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


# Every form control has an accessible name (a <label>, aria-label or aria-labelledby).
UNLABELLED_JS = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !el.getAttribute('title'))
  .map(el => el.name || el.id)"""

# WCAG 2 contrast ratio of an element's text against its own background colour.
CONTRAST_JS = """el => {
  const rgb = c => c.match(/[0-9.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const s = getComputedStyle(el);
  const [a, b] = [lum(s.color), lum(s.backgroundColor)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def _assert_accessible_basics(page) -> None:
    assert page.evaluate(UNLABELLED_JS) == []
    badges = page.locator(".due-badge.due-overdue, .due-badge.due-soon")
    for n in range(badges.count()):
        assert badges.nth(n).evaluate(CONTRAST_JS) >= 4.5


def _received(kind: str, *, member, actor, days_ago: float) -> Ticket:
    return services.open_ticket(
        kind=kind,
        member=member,
        channel=rules.Channel.PHONE,
        actor=actor,
        received_at=timezone.now() - timedelta(days=days_ago),
    )


def _search(page, term: str) -> None:
    box = page.get_by_label("会員を検索")
    box.fill(term)
    box.press("Enter")
    page.wait_for_load_state("networkidle")


def test_operator_home_lists_tickets_by_deadline_and_the_search_box_finds_by_kana_and_phone(
    page, shot, operator
):
    member = takahashi_and_sato(phone="0359961111")
    overdue = _received(rules.Kind.CORRECTION, member=member, actor=operator, days_ago=20)
    due_soon = _received(rules.Kind.DISCLOSURE, member=member, actor=operator, days_ago=12)
    _received(rules.Kind.INQUIRY, member=member, actor=operator, days_ago=0)
    send_deadline_reminders()

    page.goto("/")
    assert "/admin/login/" in page.url  # anonymous visitors log in first
    login(page, operator.username)
    page.goto("/")
    shot("home")
    _assert_accessible_basics(page)

    my_rows = page.locator("section[aria-labelledby='my-tickets-heading'] tbody tr")
    assert my_rows.count() == 3
    assert my_rows.nth(0).get_attribute("data-ticket") == overdue.number
    assert my_rows.nth(0).get_attribute("data-due-state") == "overdue"
    assert my_rows.nth(1).get_attribute("data-due-state") == "due_soon"
    # Overdue is drawn in red, due soon in amber.
    overdue_bg = my_rows.nth(0).locator(".due-badge").evaluate("e => getComputedStyle(e).backgroundColor")
    soon_bg = my_rows.nth(1).locator(".due-badge").evaluate("e => getComputedStyle(e).backgroundColor")
    assert overdue_bg == "rgb(186, 33, 33)" and soon_bg == "rgb(240, 173, 78)"
    due = timezone.localtime(due_soon.due_at).date()
    assert f"{due.year}年{due.month}月{due.day}日" in my_rows.nth(1).inner_text()
    assert page.locator("#notifications").get_by_text(f"期限超過: {overdue.number}").count() == 1

    _search(page, "たかはし")
    shot("search-by-kana")
    results = page.locator("#member-search-results tbody tr")
    assert results.count() == 1
    assert "髙橋 花子" in results.first.inner_text()

    _search(page, "０３（５９９６）１１１１")
    shot("search-by-phone")
    assert results.count() == 1
    results.first.get_by_role("link", name=member.member_no).click()
    page.wait_for_load_state("networkidle")
    shot("member-page")
    assert page.url.endswith(f"/members/{member.member_no}/")  # the member workspace
    assert AccessLog.objects.filter(user=operator, action="search", detail__endswith="via=home").count() == 2
    assert AccessLog.objects.filter(user=operator, action="view", member=member).count() == 1

    page.goto("/")
    page.get_by_role("button", name="すべて既読にする").click()
    page.wait_for_load_state("networkidle")
    shot("notifications-read")
    assert page.locator("ul.messagelist li.success").inner_text().startswith("通知")
    assert page.get_by_text("未読の通知はありません。").is_visible()


def test_logging_in_without_a_target_lands_on_the_operator_home(page, operator, supervisor):
    for user in (operator, supervisor):
        login(page, user.username)
        assert urlparse(page.url).path == "/", user.username
        assert page.locator("section[aria-labelledby='my-tickets-heading']").count() == 1
        page.context.clear_cookies()


def test_the_dashboard_draws_its_charts_for_a_supervisor_and_refuses_an_operator(
    page, shot, operator, supervisor
):
    member = MemberFactory()
    for days in (1, 2, 9, 16):
        _received(rules.Kind.INQUIRY, member=member, actor=operator, days_ago=days)
    done = _received(rules.Kind.INQUIRY, member=member, actor=operator, days_ago=3)
    services.close_ticket(done, actor=operator)
    _received(rules.Kind.DISCLOSURE, member=member, actor=operator, days_ago=20)

    login(page, operator.username)
    response = page.goto("/dashboard/")
    assert response.status == 403
    page.context.clear_cookies()

    login(page, supervisor.username)
    page.goto("/")
    page.locator("#link-dashboard").click()
    page.wait_for_load_state("networkidle")
    shot("dashboard")
    _assert_accessible_basics(page)

    assert page.url.endswith("/dashboard/")
    charts = page.locator("svg.chart[role='img']")
    assert charts.count() == 5
    for n in range(charts.count()):
        labelled_by = charts.nth(n).get_attribute("aria-labelledby").split()
        assert page.locator(f"[id='{labelled_by[0]}']").text_content().strip()
    flow = page.locator("#chart-flow")
    assert flow.locator(":scope > rect[class^='chart-s']").count() == 24  # 12 weeks × received, closed
    values = flow.locator("text.chart-value").all_text_contents()
    assert sum(int(v) for v in values if v.isdigit()) == 6 + 1  # six received, one closed
    assert flow.bounding_box()["width"] > 300
    assert page.locator("[data-figure='overdue']").inner_text() == "1"
    page.get_by_text("数値の表を表示").click()
    shot("dashboard-table")
