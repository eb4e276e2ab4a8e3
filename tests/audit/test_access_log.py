"""``/audit/access/``: who viewed, searched, exported or downloaded whose data, filtered."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consentoffice.audit.selectors import PAGE_SIZE
from members.models import AccessAction, AccessLog
from tests.audit.conftest import at
from tests.factories import MemberFactory

URL = "/audit/access/"


@pytest.fixture
def logs(db, operator, operator2):
    alice, bob = MemberFactory(), MemberFactory()
    AccessLog.objects.create(member=alice, user=operator, action=AccessAction.VIEW, at=at(9), detail="a-view")
    AccessLog.objects.create(
        member=bob, user=operator2, action=AccessAction.EXPORT, at=at(5), detail="b-export"
    )
    AccessLog.objects.create(
        member=alice, user=operator2, action=AccessAction.DOWNLOAD, at=at(1), detail="a-dl"
    )
    AccessLog.objects.create(
        member=None, user=operator, action=AccessAction.SEARCH, at=at(0), detail="search"
    )
    return {"alice": alice, "bob": bob}


def details(client, **params) -> list[str]:
    response = client.get(f"{URL}?{urlencode(params)}")
    assert response.status_code == 200
    return [r.reason for r in response.context["rows"] if r.reason != ""]


def test_the_access_log_lists_newest_first(client, supervisor, logs):
    client.force_login(supervisor)
    assert details(client) == ["search", "a-dl", "b-export", "a-view"]


def test_filter_by_user(client, supervisor, operator, logs):
    client.force_login(supervisor)
    assert details(client, user=operator.pk) == ["search", "a-view"]


def test_filter_by_member_number_and_the_search_is_logged(client, supervisor, logs):
    client.force_login(supervisor)
    assert details(client, member=logs["alice"].member_no) == ["a-dl", "a-view"]
    assert details(client, member="0000000000") == []
    searched = AccessLog.objects.get(action=AccessAction.SEARCH, user=supervisor)
    assert (searched.member, searched.detail) == (logs["alice"], "audit access log")


def test_filter_by_action(client, supervisor, logs):
    client.force_login(supervisor)
    assert details(client, action="export") == ["b-export"]


def test_filter_by_date_range(client, supervisor, logs):
    client.force_login(supervisor)
    assert details(client, date_from=at(5).date().isoformat(), date_to=at(1).date().isoformat()) == [
        "a-dl",
        "b-export",
    ]


def test_the_access_log_costs_the_same_queries_whatever_it_holds(
    client, supervisor, operator, django_assert_num_queries
):
    member = MemberFactory()
    client.force_login(supervisor)
    client.get(URL)
    url = f"{URL}?{urlencode({'user': operator.pk, 'member': member.member_no})}"
    AccessLog.objects.create(member=member, user=operator, action=AccessAction.VIEW)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    AccessLog.objects.bulk_create(
        [AccessLog(member=member, user=operator, action=AccessAction.VIEW) for _ in range(3 * PAGE_SIZE)]
    )
    with django_assert_num_queries(len(few)):
        response = client.get(url)
    assert len(response.context["rows"]) == PAGE_SIZE
    assert response.context["next_query"]


def test_the_access_log_links_to_the_members_timeline(client, supervisor, logs):
    client.force_login(supervisor)
    body = client.get(URL).content.decode()
    assert reverse("audit:timeline", args=[logs["alice"].member_no]) in body
