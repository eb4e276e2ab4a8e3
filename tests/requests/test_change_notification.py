"""住所変更等の届出: a member reports a move; applied at once with the reason in history and passed
to the bureaus and the affiliates exactly as an applied correction is (one path: change_member_data)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bureaus import services as bureau_services
from bureaus.models import Bureau, RecordType, Submission
from members.models import Member, PartnerSyncEvent
from requests import rules, services
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.requests import verified_request

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_ADDRESS = {
    "postal_code": "１００－０００１",
    "prefecture": "東京都",
    "city": "千代田区千代田",
    "address_line": "1-1",
}


@pytest.fixture
def member(db):
    return MemberFactory(postal_code="1658555", prefecture="東京都", city="中野区江原町", phone="0359961111")


@pytest.fixture
def registered(member, operator):
    """The member with a partner card and an application registered at CIC."""
    affiliate = AffiliateFactory()
    contract = ContractFactory(member=member, affiliate=affiliate, status="applied", contracted_on=None)
    bureau_services.make_inquiry(
        actor=operator,
        contract=contract,
        bureau=Bureau.objects.get(code="CIC"),
        purpose="ability_to_pay",
        inquired_at=datetime.now(TOKYO),
    )
    return affiliate


def _corrections():
    return Submission.objects.filter(record_type=RecordType.CORRECTION)


def test_a_notification_changes_the_address_with_its_reason_in_history(member, operator):
    changed = services.file_change_notification(
        member, actor=operator, reason="電話で転居の連絡", phone="0359961111", **NEW_ADDRESS
    )
    member.refresh_from_db()
    assert changed == ["address_line", "city", "postal_code"]  # the phone was the same
    assert (member.postal_code, member.city, member.address_line) == ("1000001", "千代田区千代田", "1-1")
    record = member.history.latest()
    assert record.history_user == operator
    assert record.history_change_reason == "住所変更等の届出: 電話で転居の連絡"


def test_a_notification_is_passed_to_the_bureaus_and_affiliates_like_a_correction(
    member, registered, operator
):
    services.file_change_notification(member, actor=operator, reason="転居", phone="090-1111-2222")

    [submission] = _corrections()
    assert submission.payload["changed_fields"] == ["phone"]
    assert submission.payload["changes"] == {"phone": "09011112222"}
    event = PartnerSyncEvent.objects.get()
    assert event.affiliate == registered and event.payload["changes"] == {"phone": "09011112222"}


def test_an_applied_correction_takes_the_same_path(member, registered, operator, supervisor):
    ticket = verified_request(rules.Kind.CORRECTION, member=member, actor=operator)
    item = services.add_correction_item(ticket, field="phone", requested_value="09011112222", actor=operator)
    services.decide_correction_item(item, actor=operator, accept=True)
    services.submit_for_approval(ticket, outcome=rules.Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)

    [submission] = _corrections()
    assert submission.payload["changed_fields"] == ["phone"]
    assert PartnerSyncEvent.objects.get().payload["changes"] == {"phone": "09011112222"}


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_notification_without_a_reason_is_refused_and_nothing_saved(member, registered, operator, reason):
    with pytest.raises(ValidationError) as exc:
        services.file_change_notification(member, actor=operator, reason=reason, **NEW_ADDRESS)
    assert exc.value.message_dict["reason"] == ["届出の理由を入力してください。"]
    assert Member.objects.get(pk=member.pk).city == "中野区江原町"
    assert not _corrections().exists() and not PartnerSyncEvent.objects.exists()


def test_a_bad_value_is_refused_in_japanese_and_nothing_saved(member, registered, operator):
    with pytest.raises(ValidationError) as exc:
        services.file_change_notification(
            member, actor=operator, reason="転居", **{**NEW_ADDRESS, "postal_code": "12"}
        )
    assert "postal_code" in exc.value.message_dict
    assert Member.objects.get(pk=member.pk).postal_code == "1658555"
    assert member.history.count() == 1
    assert not _corrections().exists() and not PartnerSyncEvent.objects.exists()


def test_a_notification_that_changes_nothing_is_refused(member, operator):
    with pytest.raises(ValidationError, match="変更された項目がありません"):
        services.file_change_notification(member, actor=operator, reason="転居", city="中野区江原町")
    assert member.history.count() == 1


def test_only_address_and_contacts_are_notified(member, operator):
    with pytest.raises(ValidationError, match="届出で変更できない項目"):
        services.file_change_notification(member, actor=operator, reason="改姓", family_name="佐藤")


def test_a_notification_needs_the_change_permission(member, nobody):
    with pytest.raises(PermissionDenied):
        services.file_change_notification(member, actor=nobody, reason="転居", **NEW_ADDRESS)
