"""Retention after a refused or ended contract (clause Art. 7): exactly what the policy says."""

from __future__ import annotations

from datetime import date

from django.core.management import call_command

from consentoffice.core.history import system_user
from members import retention
from members.models import ContactRecord, IdentityDocument, Member, MemberStatus, OnlineAuthEvent
from members.services import ERASED_TEXT
from tests.factories import ContactRecordFactory, ContractFactory, IdentityDocumentFactory, MemberFactory

TODAY = date(2026, 11, 25)


def _member_ended(years: float, **contract) -> Member:
    member = MemberFactory()
    ended = date(TODAY.year - int(years), TODAY.month, 1)
    ContractFactory(member=member, status="ended", ended_on=ended, **contract)
    ContactRecordFactory(member=member, summary="解約の申出")
    IdentityDocumentFactory(member=member, number="DL123456")
    member.auth_events.create(kind="login", device="Android")
    return member


def test_the_plan_and_the_run_do_exactly_what_the_policy_says(db):
    old = _member_ended(11)
    eight = _member_ended(8)  # identity records are over (7 years), the books (10 years) are not
    recent = _member_ended(2)
    running = MemberFactory()
    ContractFactory(member=running)
    running.auth_events.create(kind="login", device="iPhone")
    declined = MemberFactory()
    ContractFactory(
        member=declined,
        status="declined",
        decline_reason="credit_judgement",
        contracted_on=None,
        applied_on=date(2025, 6, 1),
    )
    declined.auth_events.create(kind="login", device="PC")

    planned = {(s.member_no, s.target) for s in retention.plan(today=TODAY)}
    assert planned == {
        (old.member_no, "online_auth_events"),
        (old.member_no, "contact_records"),
        (old.member_no, "identity_documents"),
        (old.member_no, "attributes"),
        (eight.member_no, "online_auth_events"),
        (eight.member_no, "contact_records"),
        (eight.member_no, "identity_documents"),
        (recent.member_no, "online_auth_events"),
        (declined.member_no, "online_auth_events"),
    }
    done = {(s.member_no, s.target) for s in retention.apply(actor=system_user(), today=TODAY)}
    assert done == planned

    old.refresh_from_db()
    assert (
        old.status == MemberStatus.ANONYMIZED
        and old.family_name == "匿名化済み"
        and old.phone == "0000000000"
    )
    assert IdentityDocument.objects.get(member=old).number == ""
    eight.refresh_from_db()
    assert eight.status != MemberStatus.ANONYMIZED and IdentityDocument.objects.get(member=eight).number == ""
    assert ContactRecord.objects.get(member=recent).summary == "解約の申出"  # 5 years not yet over
    assert OnlineAuthEvent.objects.get(member=recent).device == ERASED_TEXT
    assert OnlineAuthEvent.objects.get(member=running).device == "iPhone"
    # erased data is gone from the history tables too, and the erasure is on record
    assert not Member.history.filter(id=old.pk, family_name="山田").exists()
    assert not ContactRecord.history.filter(member_id=old.pk, summary="解約の申出").exists()
    assert "同意条項第7条" in old.history.first().history_change_reason


def test_a_second_run_changes_nothing(db):
    _member_ended(11)
    retention.apply(actor=system_user(), today=TODAY)
    counts = (Member.history.count(), ContactRecord.history.count(), IdentityDocument.history.count())
    assert retention.plan(today=TODAY) == []
    assert retention.apply(actor=system_user(), today=TODAY) == []
    assert (Member.history.count(), ContactRecord.history.count(), IdentityDocument.history.count()) == counts


def test_dry_run_command_lists_without_changing(db, capsys):
    member = _member_ended(11)
    call_command("apply_retention", "--dry-run")
    assert member.member_no in capsys.readouterr().out
    member.refresh_from_db()
    assert member.status != MemberStatus.ANONYMIZED
