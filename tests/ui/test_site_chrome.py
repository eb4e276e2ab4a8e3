"""What every page shares: the favicon, the log line of a 403, the navigation and the one home."""

from __future__ import annotations

import logging
import re

import pytest
from django.urls import reverse

from requests import rules, services
from tests.factories import MemberFactory
from tests.ui import login

pytestmark = pytest.mark.django_db


def test_the_favicon_answers_at_the_site_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")


def test_every_page_links_the_favicon(client, operator):
    assert '<link rel="icon" href="/favicon.ico"' in client.get("/admin/login/").content.decode()
    login(client, operator)
    for url in ("/", "/members/", "/admin/requests/ticket/"):
        html = client.get(url).content.decode()
        assert '<link rel="icon" href="/favicon.ico"' in html, url


def test_a_403_is_one_warning_line_without_traceback_or_member_number(client, nobody, caplog):
    member = MemberFactory(member_no="1000000042")
    login(client, nobody)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(f"/audit/members/{member.member_no}/")
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None and record.exc_text is None
    line = logging.Formatter("%(levelname)s %(name)s %(message)s").format(record)
    assert "\n" not in line and "Traceback" not in line
    assert member.member_no not in line
    assert (
        line
        == f"WARNING django.request Forbidden: route=/audit/members/<member_no:member_no>/ user={nobody.pk}"
    )


def test_other_client_errors_are_logged_by_route_not_path(client, operator, caplog):
    """Still one warning each, naming the URL pattern instead of the path (consentoffice.logs)."""
    login(client, operator)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/no-such-page/").status_code == 404
        assert client.get("/members/9999999999/").status_code == 404
    messages = [r.getMessage() for r in caplog.records if r.name == "django.request"]
    assert messages == ["Not Found: route=(unresolved)", "Not Found: route=/members/<member_no:member_no>/"]


# --- one home, no sidebar -------------------------------------------------------------------


def _first_breadcrumb(html: str) -> str:
    crumbs = html.split('class="breadcrumbs"', 1)[1].split("</div>", 1)[0]
    return re.search(r"<a [^>]*>[^<]*</a>", crumbs).group(0)


def _admin_pages(operator) -> list[str]:
    member = MemberFactory()
    opened = services.open_ticket(
        kind=rules.Kind.DISCLOSURE, member=member, channel=rules.Channel.PHONE, actor=operator
    )
    return [
        "/admin/requests/ticket/",
        reverse("admin:requests_ticket_queue", args=["mine"]),
        reverse("admin:requests_ticket_change", args=[opened.pk]),
        reverse("admin:requests_ticket_history", args=[opened.pk]),
        "/admin/requests/",
        "/admin/members/member/",
        reverse("admin:members_member_change", args=[member.pk]),
        "/admin/bureaus/submission/",
        "/admin/",
        "/members/",
        "/dashboard/",
        reverse("audit:history"),
        reverse("audit:timeline", args=[member.member_no]),
    ]


def test_the_header_and_the_first_breadcrumb_of_every_page_lead_to_the_one_home(client, operator, supervisor):
    login(client, supervisor)
    for url in _admin_pages(operator):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert re.search(r'<div id="site-name"><a href="/">', html), url
        crumb = _first_breadcrumb(html)
        assert 'href="/"' in crumb and "業務ホーム" in crumb, (url, crumb)
        assert ">ホーム<" not in html, url


def test_queues_and_lists_have_no_sidebar_of_every_table(client, operator, supervisor):
    login(client, supervisor)
    for url in _admin_pages(operator):
        html = client.get(url).content.decode()
        assert 'id="nav-sidebar"' not in html and 'id="toggle-nav-sidebar"' not in html, url


def test_the_admin_index_is_the_table_index_linked_for_supervisors(client, operator, supervisor):
    login(client, supervisor)
    html = client.get("/admin/").content.decode()
    assert "<h1>台帳一覧</h1>" in html or ">台帳一覧</h1>" in html
    assert 'href="/admin/members/member/"' in html
    assert 'id="link-tables"' in client.get("/").content.decode()
    login(client, operator)
    assert 'id="link-tables"' not in client.get("/").content.decode()
