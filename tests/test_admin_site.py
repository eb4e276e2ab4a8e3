"""The admin site builds its list of every table only on the page that shows it (the table index)."""

from __future__ import annotations

import pytest
from django.contrib import admin

from consentoffice.core.admin_site import CenterAdminSite
from tests.ui import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def builds(monkeypatch):
    calls = []
    real = CenterAdminSite._build_app_dict

    def counted(self, request, label=None):
        calls.append(label)
        return real(self, request, label)

    monkeypatch.setattr(CenterAdminSite, "_build_app_dict", counted)
    return calls


def test_the_site_is_the_centers(settings):
    assert isinstance(admin.site._wrapped if hasattr(admin.site, "_wrapped") else admin.site, CenterAdminSite)
    assert "consentoffice.core.admin_site.CenterAdminConfig" in settings.INSTALLED_APPS


@pytest.mark.parametrize("path", ["/", "/admin/requests/ticket/queue/overdue/", "/audit/", "/dashboard/"])
def test_pages_without_the_table_list_do_not_build_it(client, supervisor, builds, path):
    login(client, supervisor)
    assert client.get(path).status_code == 200
    assert builds == []


def test_the_table_index_still_lists_the_tables_the_user_may_see(client, supervisor, operator, builds):
    login(client, supervisor)
    html = client.get("/admin/").content.decode()
    assert builds == [None]
    assert 'href="/admin/members/member/"' in html
    login(client, operator)
    assert 'href="/admin/members/member/"' in client.get("/admin/").content.decode()
