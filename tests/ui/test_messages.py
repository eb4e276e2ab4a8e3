"""Every action tells the user what happened: admin actions and the steps linked from the home page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from members.models import PartnerSyncEvent, SyncStatus
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.ui import login

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:members_partnersyncevent_changelist"


def _event(status: str) -> PartnerSyncEvent:
    """An event of a partner cardholder (replay asks whether provision is allowed today)."""
    member, affiliate = MemberFactory(), AffiliateFactory()
    ContractFactory(member=member, affiliate=affiliate)
    return PartnerSyncEvent.objects.create(
        member=member, affiliate=affiliate, payload={"changes": {}}, status=status
    )


def test_a_supervisor_replays_dead_sync_events_from_the_list_and_is_told_how_many(client, supervisor):
    dead, sent = _event(SyncStatus.DEAD), _event(SyncStatus.SENT)
    login(client, supervisor)

    response = client.post(
        reverse(CHANGELIST),
        {"action": "replay_dead_events", "_selected_action": [dead.pk, sent.pk]},
        follow=True,
    )

    assert [str(m) for m in response.context["messages"]] == [
        "1件を再送待ちにしました。",
        "送信不能でないイベント1件は対象外です。",
    ]
    dead.refresh_from_db()
    assert dead.status == SyncStatus.PENDING and dead.attempts == 0
    assert dead.history.first().history_user == supervisor


def test_inbound_events_are_not_replayed_and_the_user_is_told(client, supervisor):
    dead = _event(SyncStatus.DEAD)
    PartnerSyncEvent.objects.filter(pk=dead.pk).update(direction="inbound")
    login(client, supervisor)
    response = client.post(
        reverse(CHANGELIST), {"action": "replay_dead_events", "_selected_action": [dead.pk]}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == ["送信不能でないイベント1件は対象外です。"]


def test_a_refused_replay_says_why(client, supervisor):
    dead = _event(SyncStatus.DEAD)
    type(dead.member).objects.filter(pk=dead.member_id).update(provision_stopped=True)
    login(client, supervisor)
    response = client.post(
        reverse(CHANGELIST), {"action": "replay_dead_events", "_selected_action": [dead.pk]}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        f"{dead.event_id}: この会員の情報は提携先へ提供できません（提供停止・取引終了・匿名化）。"
    ]
    dead.refresh_from_db()
    assert dead.status == SyncStatus.DEAD
