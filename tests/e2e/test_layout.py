"""Queues and lists at 1366 × 768, the operators' screens: no column squeezed to a character a line."""

from __future__ import annotations

import pytest

from requests import rules, services
from tests.e2e.conftest import login
from tests.factories import MemberFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The cells whose text runs over more than one line (the member's name may wrap, nothing else).
WRAPPED_CELLS_JS = """() => [...document.querySelectorAll('#result_list tbody td, #result_list tbody th')]
  .filter(td => !td.matches('.field-member_column, .ticket-member')).filter(td => {
  const range = document.createRange();
  range.selectNodeContents(td);
  const rects = [...range.getClientRects()].filter(r => r.width > 0);
  const tallest = Math.max(...rects.map(r => r.height));
  return Math.max(...rects.map(r => r.bottom)) - Math.min(...rects.map(r => r.top)) > 1.5 * tallest;
}).map(td => td.textContent.trim())"""


def test_queues_and_ticket_list_use_the_page_width_at_1366(page, operator, shot):
    member = MemberFactory()
    for kind in (rules.Kind.DISCLOSURE, rules.Kind.CORRECTION, rules.Kind.MARKETING_STOP):
        services.open_ticket(kind=kind, member=member, channel=rules.Channel.PHONE, actor=operator)
    login(page, operator.username)
    for url in ("/admin/requests/ticket/queue/mine/", "/admin/requests/ticket/"):
        page.goto(url)
        assert page.locator("#nav-sidebar").count() == 0
        width = page.locator("#content").evaluate("c => c.getBoundingClientRect().width")
        assert width > 1200, (url, width)
        wrapped = page.evaluate(WRAPPED_CELLS_JS)
        shot(url.strip("/").replace("/", "-"))
        assert wrapped == [], (url, wrapped)
        overflow = page.evaluate(
            "() => document.querySelector('#result_list').getBoundingClientRect().right"
            " - document.querySelector('#changelist .changelist-form-container, #changelist').getBoundingClientRect().right"
        )
        assert overflow <= 1, (url, overflow)
    shot("ticket-list")
