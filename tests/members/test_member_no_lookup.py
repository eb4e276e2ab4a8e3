"""A member number typed as people type it — full width (１０００…), with hyphens or spaces — finds
the member on every path where a number is entered, through one function (``normalize.member_no_key``)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from members import normalize
from members.admin_search import MemberNoSearchMixin
from members.models import AccessAction, AccessLog
from requests import rules, services
from tests.factories import MemberFactory
from tests.one_home import asks
from tests.ui import login

pytestmark = pytest.mark.django_db

NUMBER = "1000000042"
TYPED = [
    "１０００００００４２",
    "１０００-０００-０４２",
    "1000 000 042",
    "１０００－０００－０４２",
    " １０００　０００　０４２ ",
]

# The paths that look a member up by a typed number, and the function each one asks.
PATHS = [
    ("members.selectors", "parse_search_term"),  # home search, member list, admin search, member picker
    ("consentoffice.audit.selectors", "member_by_no"),  # audit filter member=, timeline URL
    ("consentoffice.audit.filters", "MemberNumberMixin"),
    ("members.admin_search", "MemberNoSearchMixin"),  # admin lists searched by =member__member_no
]


@pytest.mark.parametrize(("module", "name"), PATHS)
def test_every_path_asks_the_one_normalization(module, name):
    assert asks(module, name, "member_no_key", "member_by_no", "parse_search_term")


@pytest.mark.parametrize("typed", TYPED)
def test_the_key_is_the_stored_number(typed):
    assert normalize.member_no_key(typed) == NUMBER


@pytest.mark.parametrize("legacy", ["12 34", "1/2", "ｚ", "<b>x</b>"])
def test_a_number_given_before_the_format_is_looked_up_as_typed(legacy):
    assert normalize.member_no_key(f" {legacy} ") == legacy


def test_every_admin_searching_member_numbers_normalizes_the_term():
    searching = [
        model_admin
        for model_admin in admin.site._registry.values()
        if any("member__member_no" in field or field == "member_no" for field in model_admin.search_fields)
    ]
    assert len(searching) >= 10
    for model_admin in searching:
        normalizes = isinstance(model_admin, MemberNoSearchMixin) or asks(
            type(model_admin).__module__, type(model_admin).__name__, "parse_search_term"
        )
        assert normalizes, type(model_admin).__name__


@pytest.fixture
def found():
    member = MemberFactory(member_no=NUMBER, family_name="全角", given_name="太郎")
    other = MemberFactory(member_no="1000000043", family_name="半角", given_name="花子")
    return member, other


@pytest.mark.parametrize("typed", TYPED)
def test_search_boxes_find_the_member(client, operator, found, typed):
    member, other = found
    login(client, operator)
    for url in ("/", "/members/", "/admin/members/member/"):
        html = client.get(url, {"q": typed}).content.decode()
        assert member.member_no in html and other.member_no not in html, url


@pytest.mark.parametrize("typed", TYPED)
def test_the_ticket_search_and_the_member_picker_find_the_member(client, operator, found, typed):
    member, other = found
    mine, theirs = (
        services.open_ticket(kind=rules.Kind.INQUIRY, member=m, channel=rules.Channel.PHONE, actor=operator)
        for m in found
    )
    login(client, operator)
    html = client.get("/admin/requests/ticket/", {"q": typed}).content.decode()
    assert mine.number in html and theirs.number not in html
    picked = client.get(
        "/admin/autocomplete/",
        {"app_label": "requests", "model_name": "ticket", "field_name": "member", "term": typed},
    ).json()
    assert [row["id"] for row in picked["results"]] == [str(member.pk)]


@pytest.mark.parametrize("typed", TYPED)
def test_the_audit_filter_and_the_timeline_find_the_member(client, supervisor, found, typed):
    member, _other = found
    client.force_login(supervisor)
    for url in (reverse("audit:history"), reverse("audit:access")):
        html = client.get(url, {"member": typed}).content.decode()
        assert "その会員番号の会員はいません。" not in html, url
    assert AccessLog.objects.filter(member=member, action=AccessAction.SEARCH).count() == 2
    response = client.get(reverse("audit:timeline", args=[typed.strip()]))
    assert response.status_code == 200
    assert f"会員別タイムライン {member.member_no}" in response.content.decode()
