"""The audit lists reverse each URL once per page: every link must still be the one ``reverse`` gives."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import resolve, reverse

from consentoffice.audit.selectors import timeline_page
from consentoffice.core.converters import member_url_maker
from members import services
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["member_workspace", "audit:timeline"])
@pytest.mark.parametrize("member_no", ["2000000001", "1/2", "<b>x</b>", "a%b c", "会員7"])
def test_a_member_url_made_once_per_page_is_the_url_reverse_gives(name, member_no):
    assert member_url_maker(name)(member_no) == reverse(name, args=[member_no])


def test_every_row_of_the_history_list_links_to_its_own_diff_workspace_and_timeline(
    client, supervisor, operator
):
    members = [MemberFactory(member_no=no) for no in ("2000000101", "1/2")]
    for member in members:
        services.update_member(member, actor=operator, reason="転居の届出", city="横浜市")
    client.force_login(supervisor)
    html = client.get("/audit/").content.decode()

    rows = re.findall(r"<tr>\s*<td>.*?</tr>", html, flags=re.S)
    assert len(rows) >= 4
    details = [unescape(href) for href in re.findall(r'<a href="([^"]*/audit/history/[^"]+)">', html)]
    assert details and len(details) == len(set(details))
    for href in details:
        match = resolve(href)
        assert match.url_name == "history_detail"
        assert href == reverse(
            "audit:history_detail", args=[match.kwargs["label"], match.kwargs["history_id"]]
        )
        assert client.get(href).status_code == 200
    for member in members:
        assert f'href="{reverse("member_workspace", args=[member.member_no])}"' in html
        assert f'href="{reverse("audit:timeline", args=[member.member_no])}"' in html


def test_timeline_rows_carry_their_links(operator):
    member = MemberFactory(member_no="2000000102")
    services.update_member(member, actor=operator, reason="転居の届出", city="横浜市")
    page = timeline_page(member)
    assert page.rows
    for row in page.rows:
        assert row.workspace_url == reverse("member_workspace", args=[member.member_no])
        assert row.timeline_url == reverse("audit:timeline", args=[member.member_no])
        if not row.is_access:
            assert row.detail_url == reverse("audit:history_detail", args=[row.label, row.id])
