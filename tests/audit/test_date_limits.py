"""Every date filter of the audit pages answers a day it cannot use (9999-12-31, 0001-01-01) with
a form error, never a server error (issue 14)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import MemberFactory

DAYS = ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"]


@pytest.fixture
def pages(db):
    member = MemberFactory()
    return {
        "history": reverse("audit:history"),
        "history_export": reverse("audit:history_export"),
        "timeline": reverse("audit:timeline", args=[member.member_no]),
        "timeline_export": reverse("audit:timeline_export", args=[member.member_no]),
        "access": reverse("audit:access"),
        "access_export": reverse("audit:access_export"),
    }


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("param", ["date_from", "date_to"])
def test_a_day_out_of_range_is_a_form_error_on_every_audit_page(client, supervisor, pages, day, param):
    client.force_login(supervisor)
    for name, url in pages.items():
        response = client.get(url, {param: day})
        assert response.status_code in (200, 400), (name, response.status_code)
        if name.endswith("_export"):
            continue
        errors = response.context["filter"].errors
        assert param in errors, name
        assert "1900-01-01" in errors[param][0]


def test_the_last_and_first_days_allowed_still_filter(client, supervisor, pages):
    client.force_login(supervisor)
    response = client.get(pages["history"], {"date_from": "1900-01-01", "date_to": "2999-12-31"})
    assert response.status_code == 200
    assert not response.context["filter"].errors
