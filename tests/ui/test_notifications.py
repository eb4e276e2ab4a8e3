"""Notifications on the home page come from the work itself: reminders, bureau rejects, dead sync events."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bureaus import services as bureau_services
from bureaus.models import Submission
from consentoffice.core.history import system_user
from consentoffice.models import Notification
from members import partner_sync
from members.models import PartnerSyncEvent
from tests.bureaus.conftest import bureau_answer
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.ui import login

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 2, 1, 22, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_a_delivery_run_that_kills_events_tells_supervisors_once_with_the_count(
    client, operator, supervisor, privacy_officer
):
    closed_partner = AffiliateFactory(active=False)  # an inactive affiliate: events die at once
    for _ in range(2):
        PartnerSyncEvent.objects.create(member=MemberFactory(), affiliate=closed_partner, payload={})

    result = partner_sync.deliver_due_events()

    assert result.dead == 2
    notes = Notification.objects.filter(kind=Notification.Kind.SYNC_DEAD)
    assert sorted(n.user_id for n in notes) == sorted([supervisor.pk, privacy_officer.pk])
    assert {n.title for n in notes} == {
        "提携先連携 2件が送信不能になりました。内容を確認して再送してください。"
    }
    login(client, supervisor)
    html = client.get("/").content.decode()
    assert "提携先連携 2件が送信不能になりました" in html
    assert "/admin/members/partnersyncevent/?status__exact=dead" in html

    assert partner_sync.deliver_due_events().dead == 0
    assert notes.count() == 2  # nothing new died, nothing new to say


def test_a_response_file_with_rejects_tells_operators_and_supervisors_once(
    private_storage,
    operator,
    supervisor,
):
    system = system_user()
    good = ContractFactory(contracted_on=date(2024, 1, 20))
    bad = ContractFactory(contracted_on=date(2024, 1, 20))
    for contract in (good, bad):
        bureau_services.record_contract_event(actor=system, contract=contract, record_type="contract")
    batch = bureau_services.build_batches(actor=system, now=NOW)[0]
    rejected = Submission.objects.get(batch=batch, contract=bad)

    answer = bureau_answer(batch, private_storage / batch.file_name, rejects={rejected.pk: "10"})
    bureau_services.import_response(actor=supervisor, batch=batch, stream=answer)

    notes = Notification.objects.filter(kind=Notification.Kind.BUREAU_REJECT)
    assert sorted(n.user_id for n in notes) == sorted([operator.pk, supervisor.pk])
    note = notes.get(user=operator)
    assert note.title == f"信用情報機関の返却: {batch.bureau.code} 登録ファイル {batch} で 1件"
    assert note.url.endswith(f"?status__exact=rejected&bureau__id__exact={batch.bureau_id}")
    assert rejected.member.family_name not in note.title

    again = bureau_answer(batch, private_storage / batch.file_name, rejects={rejected.pk: "10"})
    bureau_services.import_response(actor=supervisor, batch=batch, stream=again)
    assert notes.count() == 2  # importing the same file twice says nothing twice


def test_a_response_file_without_rejects_notifies_nobody(private_storage, supervisor):
    system = system_user()
    contract = ContractFactory(contracted_on=date(2024, 1, 20))
    bureau_services.record_contract_event(actor=system, contract=contract, record_type="contract")
    batch = bureau_services.build_batches(actor=system, now=NOW)[0]
    bureau_services.import_response(
        actor=supervisor, batch=batch, stream=bureau_answer(batch, private_storage / batch.file_name)
    )
    assert not Notification.objects.exists()
