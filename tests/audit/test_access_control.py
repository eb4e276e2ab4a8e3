"""Only supervisors and the privacy officer reach the audit pages; nothing there or in the admin
edits the audit trail."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from consentoffice.audit.selectors import tracked_models
from members.models import AccessLog
from tests.factories import MemberFactory


@pytest.fixture
def urls(db):
    member = MemberFactory()
    row = member.history.first()
    return [
        reverse("audit:history"),
        reverse("audit:history_export"),
        reverse("audit:history_detail", args=["members.member", row.history_id]),
        reverse("audit:timeline", args=[member.member_no]),
        reverse("audit:timeline_export", args=[member.member_no]),
        reverse("audit:access"),
        reverse("audit:access_export"),
    ]


def test_anonymous_users_are_sent_to_the_login_page_from_every_audit_url(client, urls):
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_operators_get_403_on_every_audit_url(client, operator, urls):
    client.force_login(operator)
    for url in urls:
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("role", ["supervisor", "privacy_officer"])
def test_supervisors_and_the_privacy_officer_reach_every_audit_url(client, request, role, urls):
    client.force_login(request.getfixturevalue(role))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url


def test_audit_pages_answer_get_only(client, supervisor, urls):
    client.force_login(supervisor)
    for url in urls:
        assert client.post(url).status_code == 405, url


def test_the_admin_links_to_the_audit_trail_only_for_those_who_may_read_it(client, operator, supervisor):
    client.force_login(supervisor)
    assert reverse("audit:history").encode() in client.get(reverse("admin:index")).content
    client.force_login(operator)
    assert b'id="link-audit"' not in client.get(reverse("admin:index")).content


def test_no_history_table_is_editable_in_the_admin(db):
    for tracked in tracked_models():
        assert tracked.history not in admin.site._registry, tracked.label


def test_the_access_log_is_read_only_in_the_admin(supervisor, privacy_officer):
    model_admin = admin.site._registry[AccessLog]
    request = RequestFactory().get("/admin/")
    for user in (supervisor, privacy_officer):
        request.user = user
        assert model_admin.has_view_permission(request)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)


def test_simple_history_revert_is_disabled():
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True
