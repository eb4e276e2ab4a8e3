"""``/audit/``: one list over every history table, filtered, newest first, keyset-paginated."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consentoffice.audit.selectors import PAGE_SIZE
from members import models as m
from tests.audit.conftest import at, track
from tests.factories import ContractFactory, MemberFactory

URL = "/audit/"


def rows(client, **params):
    response = client.get(f"{URL}?{urlencode(params)}")
    assert response.status_code == 200
    return response.context["rows"]


@pytest.fixture
def trail(db, operator, operator2):
    """Two members with dated, attributed changes by two operators."""
    alice, bob = MemberFactory(), MemberFactory()
    contract = ContractFactory(member=alice)
    alice.city = "港区"
    track(alice, user=operator, reason="住所変更の申出", when=at(10))
    bob.city = "品川区"
    track(bob, user=operator2, reason="訂正請求 T-001 に基づく訂正", when=at(5))
    contract.credit_limit = 700000
    track(contract, user=operator, reason="増額審査", when=at(1))
    m.PaymentRecord.objects.create(contract=contract, month=at(0).date().replace(day=1), status_code="$")
    contractor = m.Contractor.objects.create(name="回収会社", business="債権回収")
    contractor._history_user = operator2
    contractor._change_reason = "委託終了"
    contractor.delete()
    return {"alice": alice, "bob": bob, "contract": contract}


def test_the_list_shows_every_tables_history_newest_first(client, supervisor, trail):
    client.force_login(supervisor)
    listed = rows(client)
    assert {r.label for r in listed} >= {
        "members.member",
        "members.contract",
        "members.paymentrecord",
        "members.contractor",
    }
    keys = [(r.at, r.model_index, r.id) for r in listed]
    assert keys == sorted(keys, reverse=True)


def test_filter_by_user_shows_only_that_users_changes(client, supervisor, operator, trail):
    client.force_login(supervisor)
    listed = rows(client, user=operator.pk)
    assert {r.reason for r in listed} == {"住所変更の申出", "増額審査"}
    assert {r.user_id for r in listed} == {operator.pk}


def test_filter_by_model_shows_only_that_models_history(client, supervisor, trail):
    client.force_login(supervisor)
    listed = rows(client, model="members.contract")
    assert listed and {r.label for r in listed} == {"members.contract"}


def test_filter_by_member_follows_every_path_to_the_member(client, supervisor, trail):
    client.force_login(supervisor)
    alice = trail["alice"]
    listed = rows(client, member=alice.member_no)
    assert {r.label for r in listed} == {"members.member", "members.contract", "members.paymentrecord"}
    assert {r.member_no for r in listed} == {alice.member_no}


def test_filter_by_an_unknown_member_number_finds_nothing(client, supervisor, trail):
    client.force_login(supervisor)
    response = client.get(f"{URL}?member=9999999999")
    assert response.context["rows"] == []
    assert "その会員番号の会員はいません。" in response.content.decode()


def test_filter_by_date_range_includes_both_whole_days(client, supervisor, trail):
    client.force_login(supervisor)
    listed = rows(client, date_from=at(5).date().isoformat(), date_to=at(5).date().isoformat())
    assert [r.reason for r in listed] == ["訂正請求 T-001 に基づく訂正"]
    listed = rows(client, date_from=at(10).date().isoformat(), date_to=at(1).date().isoformat())
    assert {r.reason for r in listed} == {"住所変更の申出", "訂正請求 T-001 に基づく訂正", "増額審査"}


def test_filter_by_change_type(client, supervisor, trail):
    client.force_login(supervisor)
    listed = rows(client, type="-")
    assert [(r.label, r.reason) for r in listed] == [("members.contractor", "委託終了")]
    assert all(r.kind == "+" for r in rows(client, type="+"))


def test_filter_by_reason_text_matches_part_of_the_reason(client, supervisor, trail):
    client.force_login(supervisor)
    listed = rows(client, reason="T-001")
    assert [r.member_no for r in listed] == [trail["bob"].member_no]


def test_filters_combine(client, supervisor, operator, trail):
    client.force_login(supervisor)
    listed = rows(client, user=operator.pk, model="members.member", member=trail["alice"].member_no)
    assert [r.reason for r in listed] == ["住所変更の申出"]
    assert rows(client, user=operator.pk, member=trail["bob"].member_no) == []


def test_an_invalid_filter_shows_the_form_error_and_no_rows(client, supervisor, trail):
    client.force_login(supervisor)
    response = client.get(f"{URL}?date_from=yesterday")
    assert response.context["rows"] == []
    assert response.context["filter"].errors


def test_keyset_pages_walk_every_row_once_in_order_even_with_equal_times(client, supervisor, operator):
    """Rows of different tables at the same instant are ordered by (model, id), never lost."""
    client.force_login(supervisor)
    same = at(3)
    for _ in range(PAGE_SIZE):
        member = MemberFactory()
        member.city = "中野区"
        track(member, user=operator, reason="一括", when=same)
        contract = ContractFactory(member=member)
        contract.credit_limit = 1
        track(contract, user=operator, reason="一括", when=same)
    seen, query = [], urlencode({"user": operator.pk})
    while True:
        response = client.get(f"{URL}?{query}")
        page = response.context["rows"]
        assert len(page) <= PAGE_SIZE
        seen.extend((r.at, r.model_index, r.id) for r in page)
        if not response.context["next_query"]:
            break
        query = response.context["next_query"]
    assert len(seen) == 2 * PAGE_SIZE
    assert len(set(seen)) == len(seen)
    assert seen == sorted(seen, reverse=True)


def _grow(operator, count: int) -> None:
    for i in range(count):
        member = MemberFactory()
        member.city = f"市{i}"
        track(member, user=operator, reason="変更", when=at(i % 30))
        ContractFactory(member=member)
    # Factory rows have no actor; give every row one so each page has users and members to show.
    for model in (m.Member, m.Contract):
        model.history.filter(history_user__isnull=True).update(history_user=operator)


def query_counts(client, urls: list[str]) -> list[int]:
    counts = []
    for url in urls:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured))
    return counts


def test_the_list_costs_the_same_queries_whatever_the_tables_hold(
    client, supervisor, operator, django_assert_num_queries
):
    """Few rows or many (several pages in every table), each filtered page costs the same queries."""
    _grow(operator, 2)
    member_no = m.Member.objects.order_by("pk").first().member_no
    urls = [
        reverse("audit:history"),
        f"{URL}?user={operator.pk}",
        f"{URL}?{urlencode({'user': operator.pk, 'member': member_no})}",
        f"{URL}?{urlencode({'model': 'members.member', 'member': member_no})}",
        f"{URL}?{urlencode({'date_from': at(20).date().isoformat(), 'type': '~'})}",
    ]
    client.force_login(supervisor)
    client.get(URL)  # the session is saved once after login
    few = query_counts(client, urls)
    assert max(few) <= MAX_PAGE_QUERIES
    _grow(operator, 3 * PAGE_SIZE)
    for url, expected in zip(urls, few, strict=True):
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert response.status_code == 200


# Session, user, OTP device, permissions (2), the filter form's user list, the user of ?user=, the
# member of ?member=, the access-log row of a member search (with its savepoint), the UNION page,
# its users and its members; the session is saved on each request (idle timeout) in a savepoint.
MAX_PAGE_QUERIES = 16
