"""The audit lists' rows written out in Python read as the templates wrote them, escaping included."""

from __future__ import annotations

import pytest
from django.template import engines
from django.test.html import parse_html
from django.urls import reverse
from django.utils import translation

from consentoffice.audit import presentation, selectors
from members.models import AccessAction, AccessLog
from members.services import record_access
from tests.audit.conftest import at, track
from tests.factories import ContractFactory, MemberFactory

# The rows as templates/audit/_rows.html, access_list.html and _member_links.html wrote them before
# ``audit.presentation``.
MEMBER_LINKS = (
    '<a href="{{ row.workspace_url }}">{{ row.member_no }}</a> <a href="{{ row.timeline_url }}" '
    'class="audit-timeline-link" title="{% blocktranslate with member_no=row.member_no %}'
    "会員番号 {{ member_no }} の監査タイムライン{% endblocktranslate %}\">{% translate '履歴' %}</a>"
)
HISTORY_ROWS = (
    """{% load i18n %}{% for row in rows %}<tr>
      <td>{{ row.at|date:"Y年n月j日 H:i:s" }}</td>
      <td>{{ row.object_label }}</td>
      <td class="{% if row.kind == '+' %}audit-kind-plus{% elif row.kind == '-' %}audit-kind-minus{% endif %}">{{ row.kind_label }}</td>
      <td>{{ row.user_label }}</td>
      <td>{% if row.member_no and show_member_link %}"""
    + MEMBER_LINKS
    + """{% else %}{{ row.member_no }}{% endif %}</td>
      <td>{{ row.reason_display }}</td>
      <td>{% if not row.is_access %}<a href="{{ row.detail_url }}">{% translate "変更内容" %}</a>{% endif %}</td>
    </tr>{% endfor %}"""
)
ACCESS_ROWS = (
    """{% load i18n %}{% for row in rows %}<tr>
      <td>{{ row.at|date:"Y年n月j日 H:i:s" }}</td>
      <td>{{ row.kind_label }}</td>
      <td>{{ row.user_label }}</td>
      <td>{% if row.member_no %}"""
    + MEMBER_LINKS
    + """{% endif %}</td>
      <td>{{ row.reason_display }}</td>
    </tr>{% endfor %}"""
)


@pytest.fixture
def hostile_trail(db, operator):
    """Changes and looks whose number and reasons a browser must not read as markup."""
    member = MemberFactory(member_no="<b>7</b>")
    contract = ContractFactory(member=member)
    member.city = "港区"
    track(member, user=operator, reason='<script>alert("x")</script> & 住所', when=at(2))
    contract.credit_limit = 900000
    track(contract, user=operator, reason="増額 <i>審査</i>", when=at(1))
    record_access(user=operator, action=AccessAction.VIEW, member=member, detail="workspace")
    record_access(user=operator, action=AccessAction.EXPORT, member=None, detail="audit history csv")
    return member


def render(template: str, rows, **extra) -> str:
    return engines["django"].from_string(template).render({"rows": rows, **extra})


@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("links", [True, False])
def test_history_rows_read_as_the_template_wrote_them(hostile_trail, language, links):
    with translation.override(language):
        rows = selectors.timeline_page(hostile_trail).rows
        written = presentation.history_rows_html(rows, member_links=links)
        expected = render(HISTORY_ROWS, rows, show_member_link=links)
    assert parse_html(written) == parse_html(expected)
    assert written.count("<tr>") == len(rows) >= 5  # the member and contract made and changed, a look
    assert "&lt;script&gt;" in written and "<script>" not in written and "<i>" not in written
    assert ("audit-timeline-link" in written) is links
    assert "audit-kind-" in written


@pytest.mark.parametrize("language", ["ja", "en"])
def test_access_rows_read_as_the_template_wrote_them(hostile_trail, language):
    with translation.override(language):
        rows = selectors.access_log_page(AccessLog.objects.all()).rows
        written = presentation.access_rows_html(rows)
        expected = render(ACCESS_ROWS, rows)
    assert parse_html(written) == parse_html(expected)
    assert written.count("<tr>") == len(rows) == 2
    assert "&lt;b&gt;7&lt;/b&gt;" in written and "<b>" not in written


def test_the_pages_show_the_written_rows_and_a_line_when_there_are_none(client, supervisor, hostile_trail):
    client.force_login(supervisor)
    listed = client.get("/audit/", {"member": hostile_trail.member_no}).content.decode()
    assert listed.count('class="audit-timeline-link"') == 4  # member and contract, made and changed
    empty = client.get("/audit/", {"reason": "該当しない理由"}).content.decode()
    assert "該当する記録はありません。" in empty
    access = client.get("/audit/access/").content.decode()
    assert access.count("<tr><td>") == AccessLog.objects.count()
    timeline = client.get(reverse("audit:timeline", args=[hostile_trail.member_no])).content.decode()
    assert "audit-timeline-link" not in timeline.split('id="audit-rows"')[1]


def test_a_change_page_links_the_member_as_the_list_rows_do(client, supervisor, hostile_trail):
    """The history detail page's member links are the ones the list rows carry (one maker of
    member URLs, ``core.converters.member_url_maker``), for a number that needs escaping too."""
    client.force_login(supervisor)
    row = next(r for r in selectors.timeline_page(hostile_trail).rows if not r.is_access)
    page = client.get(row.detail_url).content.decode()
    assert presentation.member_links_html(row.member_no, row.workspace_url, row.timeline_url) in page
