"""Texts the records keep (history reasons, notification titles) are in the center's language
(Japanese) whatever language the operator's screen is in: an operator who switched to English
must not write English into the audit trail."""

from __future__ import annotations

import pytest
from django.utils import translation

from consentoffice.core.i18n import record_text
from consentoffice.models import Notification
from members import services as member_services
from members.models import Contract, DeclineReason
from requests import rules
from requests import services as request_services
from requests.models import Ticket
from tests.factories import MemberFactory
from tests.requests import verified_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def last_reason(model, pk) -> str:
    return model.history.filter(id=pk).order_by("-history_id").first().history_change_reason


def test_record_text_is_japanese_under_an_english_screen(english):
    assert translation.gettext("会員一覧") == "Members", "the screen is in English"
    assert record_text("会員一覧") == "会員一覧"
    # Choice labels (lazy) are rendered in the record's language too; numbers keep their format.
    label = DeclineReason.CREDIT_JUDGEMENT.label
    assert str(label) != "与信判断による", "the label is English on this screen"
    assert record_text("申込を謝絶: %(reason)s", reason=label) == "申込を謝絶: 与信判断による"
    dead = record_text(
        "提携先連携 %(count)d件が送信不能になりました。内容を確認して再送してください。", count=3
    )
    assert dead.startswith("提携先連携 3件")


def test_ticket_steps_write_japanese_reasons_for_an_english_operator(operator, english):
    ticket = verified_request(rules.Kind.CORRECTION, member=MemberFactory(), actor=operator)
    request_services.hold(ticket, actor=operator, reason="documents awaited")
    assert last_reason(Ticket, ticket.pk) == f"{ticket.number} 保留: documents awaited"
    request_services.resume(ticket, actor=operator)
    assert last_reason(Ticket, ticket.pk) == f"{ticket.number} 保留を解除"


def test_declining_an_application_records_the_ground_in_japanese(operator, supervisor, english):
    member = MemberFactory(status="applicant")
    application = member_services.apply_for_contract(
        actor=operator, member=member, kind="shopping", product_name="一般カード"
    )
    assert last_reason(Contract, application.pk) == "取引の申込"
    member_services.decide_application(
        application, approve=False, actor=supervisor, reason=DeclineReason.CREDIT_JUDGEMENT
    )
    assert last_reason(Contract, application.pk) == "申込を謝絶: 与信判断による"


def test_notifications_are_titled_in_japanese(supervisor, english):
    from members.partner_sync import _notify_dead

    _notify_dead(2)
    title = Notification.objects.filter(user=supervisor).latest("id").title
    assert title.startswith("提携先連携 2件が送信不能になりました")
