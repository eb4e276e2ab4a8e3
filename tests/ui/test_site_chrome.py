"""What every page shares: the favicon, the log line of a 403, the navigation and the one home."""

from __future__ import annotations

import pytest

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
