"""The rows of the ticket lists (queues, operator home, workspace) are built once per list
(``requests.presentation.ticket_rows``): what they show must be what the ticket page's own
functions — ``reverse``, ``due_badge``, ``status_text``, ``remaining_label`` — say of each ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from requests import presentation, rules, selectors, services
from tests.factories import MemberFactory
from tests.requests import open_request, verified_request

Kind, Outcome = rules.Kind, rules.Outcome


@pytest.fixture
def tickets(operator, supervisor):
    """One ticket of each look: overdue, due today, due soon, in time, on hold, closed, an inquiry
    without a member, a duplicate, and members whose numbers need escaping in a URL."""
    now = timezone.now()
    member = MemberFactory(member_no="1/2")
    made = [
        open_request(Kind.DISCLOSURE, member=member, actor=operator, received_at=now - timedelta(days=20)),
        open_request(
            Kind.CORRECTION, member=MemberFactory(), actor=operator, received_at=now - timedelta(days=14)
        ),
        open_request(
            Kind.DELETION,
            member=MemberFactory(member_no="a%b c"),
            actor=operator,
            received_at=now - timedelta(days=12),
        ),
        open_request(Kind.USAGE_STOP, member=MemberFactory(), actor=operator),
        open_request(Kind.INQUIRY, member=None, actor=operator),
        open_request(Kind.DISCLOSURE, member=member, actor=operator),
    ]
    held = verified_request(Kind.MARKETING_STOP, member=MemberFactory(), actor=operator)
    services.hold(held, actor=operator, reason="本人確認書類の再送待ち")
    closed = open_request(Kind.PROVISION_STOP, member=MemberFactory(), actor=operator)
    services.submit_for_approval(closed, outcome=Outcome.WITHDRAWN, actor=operator)
    services.approve(closed, actor=supervisor)
    return made + [held, closed]


def _one_by_one(ticket, now) -> dict:
    return {
        "url": reverse("admin:requests_ticket_change", args=[ticket.pk]),
        "kind": ticket.get_kind_display(),
        "due_date": date_format(timezone.localtime(ticket.due_at), "DATE_FORMAT"),
        "member": presentation.member_text(ticket),
        "member_url": presentation.member_url(ticket),
        "status": presentation.status_text(ticket, now),
        "due": presentation.due_badge(ticket, now),
        "duplicate": presentation.duplicate_flag(ticket),
        "due_state": ticket.due_state(now),
        "due_css": presentation.DUE_STATE_CSS[ticket.due_state(now)],
        "due_label": str(presentation.DUE_STATE_LABELS[ticket.due_state(now)]),
        "remaining": presentation.remaining_label(ticket, now),
    }


@pytest.mark.parametrize("language", ["ja", "en"])
def test_each_row_says_what_the_ticket_page_says_of_it(tickets, language):
    now = timezone.now()
    listed = list(selectors.tickets_for_lists().filter(pk__in=[t.pk for t in tickets]).order_by("pk"))
    assert len(listed) == len(tickets)
    with translation.override(language):
        rows = presentation.ticket_rows(listed, now)
        expected = [_one_by_one(ticket, now) for ticket in listed]
    assert [{key: row[key] for key in expected[0]} for row in rows] == expected
    assert [row["ticket"] for row in rows] == listed
    states = {row["due_state"] for row in rows}
    assert {"overdue", "due_soon", "ok"} <= states
    assert any(row["duplicate"] for row in rows) and any(row["member_url"] == "" for row in rows)
    assert any("ticket-hold" in row["status"] for row in rows)


# The queue's rows as the template wrote them before ``queue_rows_html`` (templates/admin/requests/
# ticket/queue.html): the written rows must read the same, escaping included.
QUEUE_ROW_TEMPLATE = """{% for row in rows %}<tr>
  <th scope="row"><a href="{{ row.url }}">{{ row.ticket.number }}</a></th>
  <td>{{ row.ticket.get_kind_display }}</td>
  <td class="ticket-member">{% if row.member_url %}<a href="{{ row.member_url }}">{{ row.member }}</a>{% else %}{{ row.member }}{% endif %}</td>
  <td>{{ row.status }}</td>
  <td>{{ row.ticket.assignee|default:"—" }}</td>
  <td>{{ row.ticket.received_at|date:"DATETIME_FORMAT" }}</td>
  <td>{{ row.due }}</td>
  <td>{{ row.duplicate }}</td>
</tr>{% endfor %}"""


# The operator home's rows as templates/home/_ticket_table.html wrote them before ``home_rows_html``.
HOME_ROW_TEMPLATE = """{% load i18n %}  {% for row in rows %}
    <tr class="row-{{ row.due_state }}" data-ticket="{{ row.ticket.number }}" data-due-state="{{ row.due_state }}">
      <th scope="row"><a href="{{ row.url }}">{{ row.ticket.number }}</a></th>
      <td class="nowrap">{{ row.ticket.get_kind_display }}{% if row.ticket.has_duplicate %} <span class="ticket-duplicate" title="{% translate "同じ会員・同じ種別の未完了の受付票が他にあります" %}">⚠</span>{% endif %}</td>
      <td>{% if row.member_url %}<a href="{{ row.member_url }}">{{ row.member }}</a>{% else %}{{ row.member }}{% endif %}</td>
      <td class="nowrap">{{ row.status }}</td>
      <td>
        {% if row.ticket.is_request %}
          <span class="due-badge {{ row.due_css }}">{{ row.ticket.due_at|date:"DATE_FORMAT" }}</span>
          {% if row.due_state != "ok" %}<strong>{{ row.due_label }}</strong>{% endif %}
          {% if row.remaining %}<span class="due-remaining">（{{ row.remaining }}）</span>{% endif %}
        {% else %}
          <span class="home-empty">{% translate "期限なし" %}</span>
        {% endif %}
      </td>
    </tr>
  {% endfor %}
"""


LAYOUTS = {
    "queue": (QUEUE_ROW_TEMPLATE, presentation.queue_rows_html),
    "home": (HOME_ROW_TEMPLATE, presentation.home_rows_html),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_written_rows_read_as_the_template_wrote_them(tickets, operator, language, layout):
    from django.template import engines
    from django.test.html import parse_html

    template, write = LAYOUTS[layout]
    escaped = MemberFactory(member_no="<b>9</b>", family_name="<i>山田</i>", given_name="&太郎")
    open_request(Kind.DISCLOSURE, member=escaped, actor=operator)
    now = timezone.now()
    listed = list(selectors.tickets_for_lists().order_by("pk"))
    with translation.override(language):
        rows = presentation.ticket_rows(listed, now)
        expected = engines["django"].from_string(template).render({"rows": rows})
        written = write(rows)
    assert parse_html(written) == parse_html(expected)
    assert "&lt;b&gt;9&lt;/b&gt;" in written and "<i>" not in written
    assert written.count("<tr") == len(listed) == len(tickets) + 1
    assert "ticket-duplicate" in written and "due-badge" in written
