"""Member numbers (DESIGN: ten ASCII digits from a database sequence) and members numbered before
there was a format (issue 14): registration and every audit page keep working."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from members import services
from members.models import AccessAction, Member
from tests.factories import MemberFactory

FIELDS = dict(
    family_name="佐藤",
    given_name="花子",
    family_name_kana="サトウ",
    given_name_kana="ハナコ",
    birth_date="1985-05-05",
    postal_code="1000001",
    prefecture="東京都",
    city="千代田区",
    address_line="1-1",
    phone="0312345678",
)
LEGACY = ["1/2", "<b>x</b>", "ｚ", "9999999999", "12 34", "a%2Fb"]


def register(actor, **extra):
    return services.create_member(actor=actor, **{**FIELDS, **extra})


def test_numbers_come_from_the_sequence_not_from_the_largest_in_use(operator):
    for number in LEGACY:
        MemberFactory(member_no=number)  # written before numbers had a format
    first, second = register(operator), register(operator, phone="0312345679")
    for member in (first, second):
        assert len(member.member_no) == 10 and member.member_no.isascii() and member.member_no.isdigit()
    assert int(second.member_no) == int(first.member_no) + 1


def test_a_number_already_taken_by_hand_is_skipped(operator):
    upcoming = services.next_member_no()
    MemberFactory(member_no=f"{int(upcoming) + 1:010d}")
    member = register(operator)
    assert member.member_no == f"{int(upcoming) + 2:010d}"


@pytest.mark.parametrize("typed", ["２０００１２３４５６", " 2000123456 "])
def test_a_number_typed_in_full_width_is_stored_in_ascii(operator, typed):
    assert register(operator, member_no=typed).member_no == "2000123456"


@pytest.mark.parametrize("typed", ["1/2", "<b>x</b>", "ｚ", "123", "20001234567", "2000-12345"])
def test_any_other_number_is_refused_with_nothing_saved(operator, typed):
    with pytest.raises(ValidationError) as exc:
        register(operator, member_no=typed)
    assert "会員番号は半角数字10桁で入力してください。" in exc.value.message_dict["member_no"]
    assert not Member.objects.exists()


def test_a_member_numbered_before_the_format_can_still_be_changed(operator):
    member = MemberFactory(member_no="1/2")
    services.update_member(member, actor=operator, reason="住所変更", city="中野区")
    member.refresh_from_db()
    assert (member.member_no, member.city) == ("1/2", "中野区")


@pytest.mark.parametrize("number", LEGACY)
def test_every_audit_page_copes_with_a_legacy_number(client, supervisor, operator, number):
    member = MemberFactory(member_no=number)
    services.update_member(member, actor=operator, reason="住所変更", city="中野区")
    services.record_access(user=operator, action=AccessAction.VIEW, member=member)
    client.force_login(supervisor)

    timeline = reverse("audit:timeline", args=[number])
    for url in [
        reverse("audit:history"),
        reverse("audit:history") + f"?member={number}",
        reverse("audit:access"),
        reverse("audit:access") + f"?member={number}",
        reverse("audit:history_export"),
        reverse("audit:access_export"),
        timeline,
        reverse("audit:timeline_export", args=[number]),
    ]:
        assert client.get(url).status_code == 200, url
    page = client.get(timeline)
    assert page.context["member"] == member
    assert timeline in client.get(reverse("audit:access")).content.decode()
