"""members.services: members are written normalized, with a history row naming actor and reason;
bad input saves nothing; partner cards are told about category ① changes (clause Art. 10)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from members import services
from members.models import Member, PartnerSyncEvent, ProvisionRecord
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def valid_fields(**overrides) -> dict:
    fields = {
        "family_name": "髙﨑",
        "given_name": "花子",
        "family_name_kana": "たかさき",
        "given_name_kana": "ﾊﾅｺ",
        "birth_date": date(1990, 4, 1),
        "gender": "female",
        "postal_code": "〒165-8555",
        "prefecture": "東京都",
        "city": "中野区江原町",
        "address_line": "１－１３－２２",
        "phone": "０３（５９９６）１１１１",
        "email": "Hanako@Example.JP",
    }
    fields.update(overrides)
    return fields


def years_ago(years: int, plus_days: int = 0) -> date:
    today = timezone.localdate()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return date.fromordinal(day.toordinal() + plus_days)


# --- create_member ----------------------------------------------------------------------------


def test_create_member_stores_normalized_values(operator):
    member = services.create_member(actor=operator, **valid_fields())

    member.refresh_from_db()
    assert member.family_name == "髙﨑"
    assert member.family_name_kana == "タカサキ"
    assert member.given_name_kana == "ハナコ"
    assert member.postal_code == "1658555"
    assert member.phone == "0359961111"
    assert member.phone_display == "03-5996-1111"
    assert member.address_line == "1-13-22"
    assert member.email == "Hanako@example.jp"
    assert member.search_kana == "タカサキハナコ"
    assert re.fullmatch(r"[0-9]{10}", member.member_no)


def test_create_member_writes_a_history_row_with_the_actor_and_reason(operator):
    member = services.create_member(actor=operator, reason="申込書 No.123 より登録", **valid_fields())

    history = member.history.get()
    assert history.history_type == "+"
    assert history.history_user == operator
    assert history.history_change_reason == "申込書 No.123 より登録"
    assert history.family_name_kana == "タカサキ"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("family_name_kana", "高崎", "フリガナはカタカナまたはひらがなで入力してください。"),
        ("given_name_kana", "Hanako", "フリガナはカタカナまたはひらがなで入力してください。"),
        ("postal_code", "165-855", "郵便番号は7桁の数字で入力してください（例: 165-8555）。"),
        ("postal_code", "1658-5555", "郵便番号は7桁の数字で入力してください（例: 165-8555）。"),
        ("phone", "03-5996-111", "電話番号は0から始まる10桁または11桁の数字で入力してください。"),
        ("phone", "090-1234-567", "携帯電話番号は11桁で入力してください。"),
        ("email", "hanako@", "メールアドレスの形式が正しくありません。"),
        ("birth_date", years_ago(18, plus_days=1), "お申込みは18歳以上の方に限られます。"),
    ],
)
def test_create_member_refuses_bad_input_with_a_japanese_field_error_and_saves_nothing(
    operator, field, value, message
):
    with pytest.raises(ValidationError) as exc:
        services.create_member(actor=operator, **valid_fields(**{field: value}))

    assert message in exc.value.message_dict[field]
    assert Member.objects.count() == 0
    assert Member.history.count() == 0


@pytest.mark.parametrize("missing", ["family_name", "given_name_kana", "birth_date", "postal_code", "phone"])
def test_create_member_refuses_a_missing_required_field_in_japanese_and_saves_nothing(operator, missing):
    fields = valid_fields()
    del fields[missing]

    with pytest.raises(ValidationError) as exc:
        services.create_member(actor=operator, **fields)

    messages = exc.value.message_dict[missing]
    assert messages and all(JAPANESE.search(m) for m in messages), messages
    assert Member.objects.count() == 0
    assert Member.history.count() == 0


def test_create_member_reports_every_bad_field_at_once(operator):
    with pytest.raises(ValidationError) as exc:
        services.create_member(
            actor=operator, **valid_fields(family_name_kana="高崎", postal_code="12", phone="x")
        )
    assert {"family_name_kana", "postal_code", "phone"} <= set(exc.value.message_dict)


def test_create_member_refuses_a_field_that_is_not_category_1(operator):
    with pytest.raises(ValidationError):
        services.create_member(actor=operator, provision_stopped=True, **valid_fields())
    assert Member.objects.count() == 0


def test_a_user_without_a_role_cannot_create_members(nobody):
    with pytest.raises(PermissionDenied):
        services.create_member(actor=nobody, **valid_fields())
    assert Member.objects.count() == 0


# --- update_member ----------------------------------------------------------------------------


def test_update_member_requires_a_reason(operator):
    member = MemberFactory()  # the factory's save leaves the "+" history row
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as exc:
            services.update_member(member, actor=operator, reason=reason, city="練馬区")
        assert "reason" in exc.value.message_dict
    member.refresh_from_db()
    assert member.city == "中野区江原町"
    assert member.history.count() == 1


def test_update_member_normalizes_and_records_the_reason_and_user_in_history(operator):
    member = services.create_member(actor=operator, **valid_fields())

    services.update_member(member, actor=operator, reason="受付票 T-0001 による訂正", phone="090-1234-5678")

    member.refresh_from_db()
    assert member.phone == "09012345678"
    latest = member.history.first()
    assert member.history.count() == 2
    assert latest.history_type == "~"
    assert latest.history_user == operator
    assert latest.history_change_reason == "受付票 T-0001 による訂正"
    assert latest.phone == "09012345678"


def test_update_member_that_changes_nothing_creates_no_history_row(operator):
    member = services.create_member(actor=operator, **valid_fields())

    services.update_member(
        member, actor=operator, reason="確認のみ", phone="03-5996-1111", family_name_kana="タカサキ"
    )

    assert member.history.count() == 1


def test_update_member_refuses_unknown_fields(operator):
    member = MemberFactory()
    for field in ("member_no", "provision_stopped", "no_such_field"):
        with pytest.raises(ValidationError):
            services.update_member(member, actor=operator, reason="変更", **{field: "x"})
    assert member.history.count() == 1


def test_update_member_refuses_bad_input_and_changes_nothing(operator):
    member = MemberFactory()
    with pytest.raises(ValidationError) as exc:
        services.update_member(member, actor=operator, reason="訂正", postal_code="12345")
    assert "郵便番号は7桁の数字で入力してください（例: 165-8555）。" in exc.value.message_dict["postal_code"]
    member.refresh_from_db()
    assert member.postal_code == "1658555"
    assert member.history.count() == 1


def test_a_user_without_a_role_cannot_update_members(nobody):
    member = MemberFactory()
    with pytest.raises(PermissionDenied):
        services.update_member(member, actor=nobody, reason="変更", city="練馬区")
    member.refresh_from_db()
    assert member.city == "中野区江原町"


# --- Partner cards (clause Art. 10) -----------------------------------------------------------


@pytest.fixture
def partner_member(db):
    member = MemberFactory()
    first = ContractFactory(member=member, affiliate=AffiliateFactory(code="partner-a")).affiliate
    second = ContractFactory(member=member, affiliate=AffiliateFactory(code="partner-b")).affiliate
    return member, first, second


def test_update_member_writes_one_sync_event_per_affiliate_with_only_the_changed_fields(
    operator, partner_member
):
    member, first, second = partner_member

    services.update_member(
        member,
        actor=operator,
        reason="住所変更の届出",
        family_name=member.family_name,  # unchanged: not sent
        city="練馬区豊玉北",
        phone="03-3993-1111",
        status="active",
    )

    events = PartnerSyncEvent.objects.order_by("affiliate__code")
    assert [e.affiliate for e in events] == [first, second]
    for event in events:
        assert event.status == "pending"
        assert event.payload == {
            "member_no": member.member_no,
            "changes": {"city": "練馬区豊玉北", "phone": "0339931111"},
        }
        assert event.history.get().history_user == operator


def test_a_change_outside_category_1_is_not_sent_to_affiliates(operator, partner_member):
    member, _first, _second = partner_member
    services.update_member(member, actor=operator, reason="停止", status="suspended")
    assert PartnerSyncEvent.objects.count() == 0


def test_no_sync_event_once_the_member_stopped_provision(operator, partner_member):
    member, _first, _second = partner_member
    Member.objects.filter(pk=member.pk).update(provision_stopped=True)
    member.refresh_from_db()

    services.update_member(member, actor=operator, reason="住所変更", city="練馬区")

    assert PartnerSyncEvent.objects.count() == 0
    member.refresh_from_db()
    assert member.city == "練馬区"


def test_the_affiliate_a_change_came_from_is_not_told_again(operator, partner_member):
    member, first, second = partner_member

    services.update_member(
        member, actor=operator, reason="提携先からの届出", source_affiliate=first, city="練馬区"
    )

    assert list(PartnerSyncEvent.objects.values_list("affiliate", flat=True)) == [second.pk]


def test_an_affiliate_is_told_only_the_fields_it_shares(operator, partner_member):
    member, first, second = partner_member
    first.shared_items = ["email"]
    first.save()
    second.shared_items = ["city", "email"]
    second.save()

    services.update_member(
        member, actor=operator, reason="住所・電話変更", city="練馬区", phone="03-3993-1111"
    )

    event = PartnerSyncEvent.objects.get()
    assert event.affiliate == second
    assert event.payload["changes"] == {"city": "練馬区"}


def test_a_member_without_a_partner_card_creates_no_sync_event(operator):
    member = ContractFactory(affiliate=None).member
    services.update_member(member, actor=operator, reason="住所変更", city="練馬区")
    assert PartnerSyncEvent.objects.count() == 0


def test_update_member_query_count_does_not_grow_with_unchanged_fields(
    operator, partner_member, django_assert_max_num_queries
):
    member, _first, _second = partner_member
    with django_assert_max_num_queries(20):
        services.update_member(member, actor=operator, reason="住所変更", city="練馬区")


# --- Provision records (APPI Art. 29; rules Art. 21) ------------------------------------------


@pytest.mark.parametrize(
    ("basis", "provided_on", "kept_until"),
    [
        ("consent", date(2024, 5, 1), date(2027, 5, 1)),
        ("law", date(2024, 5, 1), date(2027, 5, 1)),
        ("contract", date(2024, 5, 1), date(2025, 5, 1)),
        ("consent", date(2024, 2, 29), date(2027, 2, 28)),
        ("contract", date(2024, 2, 29), date(2025, 2, 28)),
        # Counted from the next day (Civil Code Art. 140, 143): 1 March 2021 to 29 February 2024.
        ("consent", date(2021, 2, 28), date(2024, 2, 29)),
        ("contract", date(2023, 2, 28), date(2024, 2, 29)),
    ],
)
def test_provision_records_are_kept_three_years_or_one_on_a_contract_basis(
    operator, basis, provided_on, kept_until
):
    member = MemberFactory()
    record = services.record_provision(
        member=member,
        recipient_kind="affiliate",
        recipient="提携先A",
        items=["city"],
        basis=basis,
        provided_on=provided_on,
        actor=operator,
    )
    record.refresh_from_db()
    assert record.kept_until == kept_until
    assert record.consent_recorded is (basis == "consent")
    assert ProvisionRecord.history.get().history_user == operator
