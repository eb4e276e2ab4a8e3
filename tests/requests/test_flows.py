"""Request flows shaped like the request (issue 16): the address as one group, items decided once
(a change is explicit), what a stop will stop, and the preparer told of an approval or send-back."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from consentoffice.models import Notification
from members.models import Consent, Purpose
from requests import postal, rules, selectors, services
from requests.models import CorrectionItem, DeletionItem, Ticket
from tests.factories import MemberFactory, grant_all_consents
from tests.requests import reasons, verified_request

Kind, Outcome = rules.Kind, rules.Outcome


# --- the address as one group ----------------------------------------------------------------


def test_the_postal_table_knows_prefecture_and_city_in_any_spelling_of_the_code():
    assert postal.lookup("1000001") == ("東京都", "千代田区")
    assert postal.lookup("100-0001") == postal.lookup("１００－０００１") == ("東京都", "千代田区")
    assert postal.lookup("0000000") is None
    assert postal.lookup("12") is None


def test_a_move_adds_one_item_per_changed_field_and_fills_prefecture_and_city_from_the_code(operator):
    member = MemberFactory(
        postal_code="1658555", prefecture="東京都", city="中野区江原町", address_line="1-13-22"
    )
    ticket = verified_request(Kind.CORRECTION, member=member, actor=operator)
    items = services.add_address_correction(
        ticket, actor=operator, postal_code="060-0000", address_line="北1条西2丁目"
    )
    assert [(i.field, i.current_value, i.requested_value) for i in items] == [
        ("postal_code", "1658555", "0600000"),
        ("prefecture", "東京都", "北海道"),
        ("city", "中野区江原町", "札幌市中央区"),
        ("address_line", "1-13-22", "北1条西2丁目"),
    ]
    assert CorrectionItem.objects.filter(ticket=ticket).count() == 4


def test_only_the_fields_that_change_become_items(operator):
    member = MemberFactory(
        postal_code="1658555", prefecture="東京都", city="中野区江原町", address_line="1-13-22"
    )
    ticket = verified_request(Kind.CORRECTION, member=member, actor=operator)
    items = services.add_address_correction(
        ticket, actor=operator, postal_code="165-8555", prefecture="東京都", address_line="2-5-8"
    )
    assert [i.field for i in items] == ["address_line"]


def test_an_invalid_field_saves_nothing_of_the_group(operator):
    member = MemberFactory(address_line="1-13-22")
    ticket = verified_request(Kind.CORRECTION, member=member, actor=operator)
    version = Ticket.objects.get(pk=ticket.pk).version
    with pytest.raises(ValidationError) as exc:
        services.add_address_correction(
            ticket, actor=operator, postal_code="12", prefecture="東京都", address_line="2-5-8"
        )
    assert "postal_code" in exc.value.message_dict
    assert exc.value.message_dict["postal_code"][0].startswith("郵便番号: ")
    with pytest.raises(ValidationError):
        services.add_address_correction(ticket, actor=operator, prefecture="火星", address_line="2-5-8")
    assert not CorrectionItem.objects.filter(ticket=ticket).exists()
    assert Ticket.objects.get(pk=ticket.pk).version == version


def test_a_group_with_no_change_or_a_field_already_added_is_refused_whole(operator):
    member = MemberFactory(city="中野区江原町", address_line="1-13-22")
    ticket = verified_request(Kind.CORRECTION, member=member, actor=operator)
    with pytest.raises(ValidationError, match="住所に変更がありません"):
        services.add_address_correction(ticket, actor=operator, address_line="1-13-22")
    services.add_correction_item(ticket, field="city", requested_value="中野区江古田", actor=operator)
    with pytest.raises(ValidationError):
        services.add_address_correction(ticket, actor=operator, city="杉並区", address_line="2-5-8")
    assert list(CorrectionItem.objects.filter(ticket=ticket).values_list("field", flat=True)) == ["city"]


# --- an item is decided once; a change is explicit -------------------------------------------


def test_deciding_a_decided_correction_item_again_is_refused_unless_it_is_a_change(operator):
    ticket = verified_request(Kind.CORRECTION, member=MemberFactory(), actor=operator)
    item = services.add_correction_item(ticket, field="phone", requested_value="0312345678", actor=operator)
    services.decide_correction_item(item, actor=operator, accept=True)
    rows = item.history.count()
    with pytest.raises(ValidationError, match="判断を変更"):
        services.decide_correction_item(item, actor=operator, accept=True)  # the second click
    assert item.history.count() == rows

    services.decide_correction_item(item, actor=operator, accept=False, note="事実と相違ない", change=True)
    item.refresh_from_db()
    assert item.decision == CorrectionItem.Decision.REJECTED
    assert item.history.count() == rows + 1


def test_deciding_a_decided_deletion_item_again_is_refused_unless_it_is_a_change(operator):
    ticket = verified_request(Kind.DELETION, member=MemberFactory(), actor=operator)
    item = services.add_deletion_item(ticket, target="contact_records", actor=operator)
    services.decide_deletion_item(item, actor=operator, accept=True)
    with pytest.raises(ValidationError, match="判断を変更"):
        services.decide_deletion_item(item, actor=operator, accept=True)
    assert reasons(item).count(f"{ticket.number} 削除項目を判断") == 1
    services.decide_deletion_item(item, actor=operator, accept=False, ground="contract_record", change=True)
    item.refresh_from_db()
    assert item.decision == DeletionItem.Decision.REFUSED


# --- what a stop will stop ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", [Kind.MARKETING_STOP, Kind.USAGE_STOP])
def test_the_preview_names_exactly_the_purposes_the_approval_withdraws(kind, operator, supervisor):
    member = MemberFactory()
    grant_all_consents(member)
    ticket = verified_request(kind, member=member, actor=operator)
    preview = selectors.stop_preview(kind)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)
    withdrawn = Consent.objects.filter(member=member, granted=False).values_list("purpose__code", flat=True)
    names = list(
        Purpose.objects.filter(code__in=list(withdrawn)).order_by("id").values_list("name", flat=True)
    )
    assert preview == names
    assert set(withdrawn) == set(rules.STOP_EFFECTS[kind].purposes)


@pytest.mark.django_db
def test_a_provision_stop_previews_provision_and_other_tickets_preview_nothing():
    assert selectors.stop_preview(Kind.PROVISION_STOP) == ["第三者（提携先）への個人データの提供"]
    assert selectors.stop_preview(Kind.MARKETING_STOP) == [
        "当社の営業案内・宣伝物の送付",
        "第三者から受託した営業案内",
    ]
    assert selectors.stop_preview(Kind.CORRECTION) == []


# --- the preparer is told -------------------------------------------------------------------


def _pending_stop(operator):
    ticket = verified_request(Kind.MARKETING_STOP, member=MemberFactory(), actor=operator)
    return services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)


def test_a_send_back_tells_the_preparer_and_leaves_its_reason_on_the_ticket(operator, supervisor):
    ticket = _pending_stop(operator)
    services.send_back(ticket, actor=supervisor, reason="本人確認書類の記載を再確認してください")
    ticket.refresh_from_db()
    assert ticket.sent_back_reason == "本人確認書類の記載を再確認してください"
    note = Notification.objects.get(user=operator)
    assert note.kind == Notification.Kind.SENT_BACK
    assert note.title == f"受付票 {ticket.number} が差し戻されました"  # the number only, no reason
    assert note.url == f"/admin/requests/ticket/{ticket.pk}/change/"
    assert not Notification.objects.filter(user=supervisor).exists()

    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    ticket.refresh_from_db()
    assert ticket.sent_back_reason == ""


def test_an_approval_tells_the_preparer(operator, supervisor):
    ticket = _pending_stop(operator)
    services.approve(ticket, actor=supervisor)
    note = Notification.objects.get(user=operator, read_at__isnull=True)
    assert note.kind == Notification.Kind.APPROVED
    assert note.title == f"受付票 {ticket.number} が承認されました"
