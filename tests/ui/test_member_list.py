"""The operators' member list (会員一覧, ``/members/``): newest first, keyset paging, search and
filters, checkboxes that post to the admin's CSV export."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members.list_views import PAGE_SIZE
from members.models import AccessLog, Gender, Member, MemberStatus
from tests.factories import MemberFactory
from tests.ui import assert_for_role_users_only, login

pytestmark = pytest.mark.django_db

LIST = "/members/"
CHANGELIST = "/admin/members/member/"


def listed_ids(page: str) -> list[int]:
    """Member ids of the rows, in the order shown."""
    return [int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', page)]


def page_link(page: str, rel: str) -> str | None:
    """The URL of the paging link with ``rel`` ("next": older, "prev": newer), or None."""
    found = re.search(rf'<a href="([^"]*)" rel="{rel}">', page)
    return LIST + htmllib.unescape(found.group(1)) if found else None


def alerts(page: str) -> list[str]:
    """The items of the error list (``role="alert"``)."""
    found = re.search(r'<ul class="member-list-errors" role="alert">(.*?)</ul>', page, re.S)
    return (
        [htmllib.unescape(item) for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]
        if found
        else []
    )


def get(client, url: str = LIST, params: dict | None = None) -> str:
    response = client.get(url, params or {})
    assert response.status_code == 200
    return response.content.decode()


def newest_first(queryset=None) -> list[int]:
    return list(
        (queryset if queryset is not None else Member.objects).order_by("-pk").values_list("pk", flat=True)
    )


def searches():
    return AccessLog.objects.filter(action="search")


# --- who may open it -----------------------------------------------------------------------------


def test_only_role_users_may_open_the_list(client, nobody):
    assert_for_role_users_only(client, LIST, nobody)


@pytest.mark.parametrize("role", ["operator", "supervisor", "privacy_officer"])
def test_every_role_may_open_the_list(client, request, role):
    member = MemberFactory()
    login(client, request.getfixturevalue(role))
    assert listed_ids(get(client)) == [member.pk]


def test_the_list_is_read_only(client, operator):
    login(client, operator)
    assert client.post(LIST).status_code == 405


def test_the_list_is_reachable_from_the_header(client, operator):
    login(client, operator)
    assert f'<a href="{LIST}" id="link-members">会員一覧</a>' in get(client, "/")


# --- newest first, keyset paging -----------------------------------------------------------------


def walk(client, url: str, rel: str) -> list[list[int]]:
    """The ids of each page from ``url`` on, following the ``rel`` links until there is none."""
    pages = []
    while url:
        page = get(client, url)
        pages.append(listed_ids(page))
        assert len(pages) < 10, "paging does not end"
        url = page_link(page, rel)
    return pages


@pytest.mark.parametrize("count", [120, 100])
def test_older_links_visit_every_member_once_newest_first(client, operator, count):
    MemberFactory.create_batch(count)
    expected = newest_first()
    login(client, operator)

    first = get(client)
    assert listed_ids(first) == expected[:PAGE_SIZE]
    assert page_link(first, "prev") is None  # nothing newer than the first page
    assert "古い50件 →</a>" in first

    pages = walk(client, LIST, "next")

    assert [len(p) for p in pages] == ([50, 50, 20] if count == 120 else [50, 50])
    assert [pk for p in pages for pk in p] == expected  # all, once each, in order
    assert page_link(get(client, page_link(first, "next")), "prev")  # page 2 leads back


def test_newer_links_lead_back_page_by_page_to_the_first(client, operator):
    MemberFactory.create_batch(120)
    login(client, operator)
    forward = walk(client, LIST, "next")
    last_url = LIST
    for _ in range(len(forward) - 1):
        last_url = page_link(get(client, last_url), "next")
    last = get(client, last_url)
    assert page_link(last, "next") is None  # nothing older than the last page

    backward = walk(client, last_url, "prev")

    assert backward == list(reversed(forward))
    assert page_link(get(client, page_link(last, "prev")), "next")


def test_the_newer_link_from_page_two_returns_exactly_page_one(client, operator):
    MemberFactory.create_batch(120)
    login(client, operator)
    first = get(client)
    second = get(client, page_link(first, "next"))
    assert "← 新しい50件</a>" in second
    assert "最新の会員へ" in second

    again = get(client, page_link(second, "prev"))

    assert listed_ids(again) == listed_ids(first)
    assert page_link(again, "prev") is None
    assert page_link(again, "next") == page_link(first, "next")


def test_one_page_of_members_has_no_paging_links(client, operator):
    MemberFactory.create_batch(3)
    login(client, operator)
    page = get(client)
    assert page_link(page, "prev") is None and page_link(page, "next") is None
    assert "最新の会員へ" not in page


# --- filters -------------------------------------------------------------------------------------


@pytest.fixture
def four():
    """Members differing in status, prefecture and gender."""
    return {
        "a": MemberFactory(status=MemberStatus.SUSPENDED, prefecture="大阪府", gender=Gender.FEMALE),
        "b": MemberFactory(status=MemberStatus.ACTIVE, prefecture="大阪府", gender=Gender.MALE),
        "c": MemberFactory(status=MemberStatus.SUSPENDED, prefecture="東京都", gender=Gender.MALE),
        "d": MemberFactory(status=MemberStatus.ACTIVE, prefecture="東京都", gender=Gender.FEMALE),
    }


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"status": "suspended"}, "ca"),
        ({"prefecture": "大阪府"}, "ba"),
        ({"gender": "female"}, "da"),
        ({"status": "suspended", "prefecture": "大阪府"}, "a"),
        ({"status": "closed"}, ""),
    ],
)
def test_filters_narrow_the_rows(client, operator, four, params, names):
    login(client, operator)
    page = get(client, params=params)
    assert listed_ids(page) == [four[n].pk for n in names]
    assert alerts(page) == []
    for name, value in params.items():
        select = page.split(f'<select name="{name}"', 1)[1].split("</select>", 1)[0]
        assert f'<option value="{value}" selected>' in select
    if not names:
        assert "条件に合う会員はいません。" in page
    assert not searches().exists()  # filtering is not a search


def test_older_link_keeps_the_filter(client, operator):
    suspended = []
    for _ in range(55):
        suspended.append(MemberFactory(status=MemberStatus.SUSPENDED).pk)
        MemberFactory(status=MemberStatus.ACTIVE, prefecture="大阪府")
    login(client, operator)

    first = get(client, params={"status": "suspended"})
    older = page_link(first, "next")
    assert parse_qs(urlsplit(older).query)["status"] == ["suspended"]
    pages = walk(client, older, "next")

    assert listed_ids(first) + [pk for p in pages for pk in p] == suspended[::-1]
    second = get(client, older)
    assert parse_qs(urlsplit(page_link(second, "prev")).query)["status"] == ["suspended"]


def test_older_link_keeps_the_search_term(client, operator):
    MemberFactory.create_batch(55)  # every factory member reads ヤマダ
    MemberFactory(family_name_kana="サトウ")
    login(client, operator)
    first = get(client, params={"q": "やまだ"})
    assert parse_qs(urlsplit(page_link(first, "next")).query)["q"] == ["やまだ"]
    assert len(listed_ids(get(client, page_link(first, "next")))) == 5
    assert list(searches().order_by("pk").values_list("detail", flat=True)) == [
        "kind=kana hits=50+ via=list",
        "kind=kana hits=5+ via=list",
    ]


# --- search --------------------------------------------------------------------------------------


@pytest.fixture
def people():
    return {
        "takahashi": MemberFactory(
            member_no="3000000001",
            family_name="髙橋",
            given_name="花子",
            family_name_kana="タカハシ",
            given_name_kana="ハナコ",
            phone="0359961111",
        ),
        "sato1": MemberFactory(
            family_name="佐藤", given_name="一郎", family_name_kana="サトウ", given_name_kana="イチロウ"
        ),
        "sato2": MemberFactory(
            family_name="佐藤", given_name="二郎", family_name_kana="サトウ", given_name_kana="ジロウ"
        ),
        "yamada": MemberFactory(email="Yamada.Taro@Example.jp"),
    }


@pytest.mark.parametrize(
    ("term", "kind", "names"),
    [
        ("3000000001", "member_no", ["takahashi"]),
        ("03-5996-1111", "phone", ["takahashi"]),
        ("０３－５９９６－１１１１", "phone", ["takahashi"]),
        ("たかはし", "kana", ["takahashi"]),
        ("佐藤", "name", ["sato2", "sato1"]),
        ("yamada.taro@example.jp", "email", ["yamada"]),
        ("すずき", "kana", []),
    ],
)
def test_search_finds_the_right_members_and_logs_kind_and_hits_never_the_term(
    client, operator, people, term, kind, names
):
    login(client, operator)
    page = get(client, params={"q": term})

    assert listed_ids(page) == [people[n].pk for n in names]
    log = searches().get()
    assert (log.user, log.member) == (operator, None)
    assert log.detail == f"kind={kind} hits={len(names)} via=list"
    assert term not in log.detail and term not in log.path and "q=" not in log.path
    if not names:
        assert "該当する会員はいません。" in page


def test_opening_the_list_without_a_term_logs_no_search(client, operator, people):
    login(client, operator)
    get(client)
    get(client, params={"q": "   "})
    assert not searches().exists()


def test_search_combines_with_a_filter(client, operator, people):
    people["sato1"].status = MemberStatus.SUSPENDED
    people["sato1"].save()
    login(client, operator)
    page = get(client, params={"q": "佐藤", "status": "suspended"})
    assert listed_ids(page) == [people["sato1"].pk]
    assert searches().get().detail == "kind=name hits=1 via=list"


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "bogus"}, "状態: "),
        ({"prefecture": "X"}, "都道府県: "),
        ({"gender": "other"}, "性別: "),
        ({"after": "abc"}, "ページ: "),
        ({"before": "-5"}, "ページ: "),
        ({"after": "1", "before": "2"}, "ページの指定が正しくありません。"),
        ({"q": "あ" * 201}, "会員を検索: "),
    ],
)
def test_bad_input_is_reported_and_not_applied(client, operator, four, params, message):
    login(client, operator)
    logged = AccessLog.objects.count()

    page = get(client, params=params)

    errors = alerts(page)
    assert len(errors) == 1 and errors[0].startswith(message), errors
    assert listed_ids(page) == newest_first()  # every member, unfiltered
    assert AccessLog.objects.count() == logged


def test_a_bad_filter_does_not_drop_the_good_ones(client, operator, four):
    login(client, operator)
    page = get(client, params={"status": "suspended", "gender": "nope"})
    assert listed_ids(page) == [four["c"].pk, four["a"].pk]
    assert len(alerts(page)) == 1


# --- escaping ------------------------------------------------------------------------------------


def test_names_and_the_term_are_escaped(client, operator):
    member = MemberFactory(family_name="<b>x</b>", given_name="\"&'")
    Member.objects.filter(pk=member.pk).update(member_no='<i>"1', family_name_kana="<s>")
    login(client, operator)

    page = get(client)
    assert "&lt;b&gt;x&lt;/b&gt; &quot;&amp;&#x27;" in page
    assert "&lt;i&gt;&quot;1" in page and "&lt;s&gt;" in page
    assert "<b>x</b>" not in page and "<i>" not in page and "<s>" not in page

    page = get(client, params={"q": '"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


# --- cost ----------------------------------------------------------------------------------------


def queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(LIST, params).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("role", "base"),
    [
        # session, user, the permissions (one query), the list
        ("operator", 4),
        # + the OTP device of the verified session
        ("supervisor", 5),
    ],
)
def test_the_list_costs_the_same_queries_for_three_members_or_sixty(client, request, role, base):
    MemberFactory.create_batch(3)
    login(client, request.getfixturevalue(role))
    client.get(LIST)  # the first request after login renews the session (a write): not counted
    assert queries(client) == base

    MemberFactory.create_batch(57)
    assert queries(client) == base
    assert queries(client, after=newest_first()[PAGE_SIZE - 1]) == base
    assert queries(client, status="active", prefecture="東京都") == base
    assert queries(client, q="やまだ") == base + 1  # the search's access-log row


# --- export and links ----------------------------------------------------------------------------


def test_the_selected_members_are_exported_through_the_admin_action(client, operator):
    members = MemberFactory.create_batch(4)
    login(client, operator)
    page = get(client)
    form = (
        page.split('id="member-list-form"', 1)[0].rsplit("<form", 1)[1]
        + page.split('id="member-list-form"', 1)[1].split("</form>", 1)[0]
    )
    action = re.search(r'action="([^"]+)"', form).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert action == CHANGELIST
    assert hidden.pop("csrfmiddlewaretoken")
    assert hidden == {"action": "export_csv", "index": "0"}
    chosen = [members[1], members[3]]

    response = client.post(action, {**hidden, "_selected_action": [m.pk for m in chosen]})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(row[0] for row in rows[1:]) == sorted(m.member_no for m in chosen)
    exports = AccessLog.objects.filter(action="export", user=operator)
    assert sorted(exports.values_list("member_id", flat=True)) == sorted(m.pk for m in chosen)


def test_number_and_name_link_to_the_member_workspace(client, operator):
    member = MemberFactory()
    odd = MemberFactory(member_no="1/2%")  # a number typed before numbers had one format
    login(client, operator)
    page = get(client)
    url = f"/members/{member.member_no}/"
    assert url == reverse("member_workspace", args=[member.member_no])
    assert f'href="{reverse("member_workspace", args=[odd.member_no])}"' in page
    assert f'<th scope="row"><a href="{url}">{member.member_no}</a></th>' in page
    assert f'<td><a href="{url}">{member.full_name}</a></td>' in page
    assert f'aria-label="会員 {member.member_no} を選択"' in page
