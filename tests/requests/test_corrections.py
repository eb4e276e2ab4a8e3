"""Correction requests (APPI Art. 34; clause Art. 4, 10): item by item, applied through update_member."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from members.models import Member, PartnerSyncEvent, SyncStatus
from requests import rules, services
from requests.models import CorrectionItem
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.requests import verified_request

Kind, Status, Outcome = rules.Kind, rules.Status, rules.Outcome
Decision = CorrectionItem.Decision


@pytest.fixture
def member(db):
    return MemberFactory(postal_code="1658555", city="中野区江原町", phone="0359961111")


@pytest.fixture
def ticket(member, operator):
    return verified_request(Kind.CORRECTION, member=member, actor=operator)


def test_an_item_captures_the_current_value_and_the_normalized_requested_value(ticket, operator):
    item = services.add_correction_item(
        ticket, field="postal_code", requested_value="１００－０００１", actor=operator
    )
    assert item.current_value == "1658555"
    assert item.requested_value == "1000001"
    assert item.decision == Decision.PENDING
    assert item.history.latest().history_change_reason.startswith(ticket.number)


def test_an_invalid_requested_value_is_refused_with_the_japanese_error_and_nothing_saved(ticket, operator):
    version = ticket.version
    with pytest.raises(ValidationError) as exc:
        services.add_correction_item(ticket, field="postal_code", requested_value="165-85", actor=operator)
    assert exc.value.message_dict["requested_value"] == [
        "郵便番号は7桁の数字で入力してください（例: 165-8555）。"
    ]
    assert not CorrectionItem.objects.exists()
    ticket.refresh_from_db()
    assert ticket.version == version


def test_only_category_one_fields_can_be_corrected_and_each_once(ticket, operator):
    with pytest.raises(ValidationError):
        services.add_correction_item(ticket, field="status", requested_value="closed", actor=operator)
    services.add_correction_item(ticket, field="city", requested_value="中野区江古田", actor=operator)
    with pytest.raises(ValidationError):
        services.add_correction_item(ticket, field="city", requested_value="中野区沼袋", actor=operator)
    assert CorrectionItem.objects.filter(ticket=ticket).count() == 1


def test_correction_items_belong_to_correction_requests_only(member, operator):
    deletion = verified_request(Kind.DELETION, member=member, actor=operator)
    with pytest.raises(ValidationError):
        services.add_correction_item(deletion, field="city", requested_value="中野区江古田", actor=operator)


def test_each_item_is_decided_on_its_own_and_rejecting_needs_a_note(ticket, operator):
    city = services.add_correction_item(ticket, field="city", requested_value="中野区江古田", actor=operator)
    phone = services.add_correction_item(
        ticket, field="phone", requested_value="03-5996-2222", actor=operator
    )
    with pytest.raises(ValidationError) as exc:
        services.decide_correction_item(phone, actor=operator, accept=False, note="  ")
    assert "note" in exc.value.message_dict

    services.decide_correction_item(city, actor=operator, accept=True)
    services.decide_correction_item(phone, actor=operator, accept=False, note="登録内容は事実と相違ない")
    decisions = dict(CorrectionItem.objects.values_list("field", "decision"))
    assert decisions == {"city": Decision.ACCEPTED, "phone": Decision.REJECTED}
    assert CorrectionItem.objects.get(pk=phone.pk).decision_note == "登録内容は事実と相違ない"


def test_the_outcome_must_match_the_item_decisions(ticket, operator):
    with pytest.raises(ValidationError, match="項目を追加"):
        services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    city = services.add_correction_item(ticket, field="city", requested_value="中野区江古田", actor=operator)
    phone = services.add_correction_item(ticket, field="phone", requested_value="0359962222", actor=operator)
    services.decide_correction_item(city, actor=operator, accept=True)
    with pytest.raises(ValidationError, match="すべての項目"):
        services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.decide_correction_item(phone, actor=operator, accept=False, note="事実と相違ない")

    with pytest.raises(ValidationError, match="一致しません"):
        services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    with pytest.raises(ValidationError, match="一致しません"):
        services.submit_for_approval(
            ticket, outcome=Outcome.REFUSED, ground="business", reason="一部は事実どおり", actor=operator
        )
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    services.submit_for_approval(
        ticket, outcome=Outcome.PARTLY, reason="電話番号は登録どおりです", actor=operator
    )
    assert ticket.status == Status.PENDING_APPROVAL


def test_approval_applies_only_the_accepted_items_with_the_ticket_number_in_the_member_history(
    ticket, member, operator, supervisor
):
    city = services.add_correction_item(ticket, field="city", requested_value="中野区江古田", actor=operator)
    phone = services.add_correction_item(ticket, field="phone", requested_value="0359962222", actor=operator)
    services.decide_correction_item(city, actor=operator, accept=True)
    services.decide_correction_item(phone, actor=operator, accept=False, note="事実と相違ない")
    services.submit_for_approval(
        ticket, outcome=Outcome.PARTLY, reason="電話番号は登録どおりです", actor=operator
    )
    history_before = member.history.count()

    services.approve(ticket, actor=supervisor)

    member = Member.objects.get(pk=member.pk)
    assert member.city == "中野区江古田"
    assert member.phone == "0359961111"
    assert member.history.count() == history_before + 1
    latest = member.history.latest()
    assert latest.history_change_reason.startswith(f"{ticket.number} ")
    assert latest.history_user == supervisor
    assert latest.city == "中野区江古田"


def test_a_refused_correction_changes_nothing(ticket, member, operator, supervisor):
    city = services.add_correction_item(ticket, field="city", requested_value="中野区江古田", actor=operator)
    services.decide_correction_item(
        city, actor=operator, accept=False, note="評価に関する情報であり訂正の対象外"
    )
    services.submit_for_approval(
        ticket, outcome=Outcome.REFUSED, ground="business", reason="評価に関する情報のため", actor=operator
    )
    services.approve(ticket, actor=supervisor)
    assert Member.objects.get(pk=member.pk).city == "中野区江原町"


def test_an_accepted_phone_correction_of_a_partner_card_holder_is_passed_to_the_affiliate(
    ticket, member, operator, supervisor
):
    affiliate = AffiliateFactory()
    ContractFactory(member=member, affiliate=affiliate)
    phone = services.add_correction_item(
        ticket, field="phone", requested_value="090-1111-2222", actor=operator
    )
    services.decide_correction_item(phone, actor=operator, accept=True)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    assert not PartnerSyncEvent.objects.exists()

    services.approve(ticket, actor=supervisor)

    event = PartnerSyncEvent.objects.get()
    assert event.affiliate == affiliate and event.member == member
    assert event.status == SyncStatus.PENDING
    assert event.payload["changes"] == {"phone": "09011112222"}
    assert event.payload["member_no"] == member.member_no


def test_a_member_without_a_partner_card_creates_no_sync_event(ticket, operator, supervisor):
    ContractFactory(member=ticket.member)
    phone = services.add_correction_item(ticket, field="phone", requested_value="09011112222", actor=operator)
    services.decide_correction_item(phone, actor=operator, accept=True)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)
    assert not PartnerSyncEvent.objects.exists()


def test_a_birth_date_correction_is_stored_as_a_date(ticket, member, operator, supervisor):
    item = services.add_correction_item(
        ticket, field="birth_date", requested_value="1980-04-02", actor=operator
    )
    assert item.current_value == "1980-04-01"
    services.decide_correction_item(item, actor=operator, accept=True)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)
    assert Member.objects.get(pk=member.pk).birth_date.isoformat() == "1980-04-02"
