"""Deletion requests (APPI Art. 35; clause Art. 4): erase what may be erased, keep what the law keeps."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from members.models import Consent, ContactRecord, ContractStatus, IdentityDocument
from members.services import ERASED_TEXT
from requests import rules, selectors, services
from requests.models import DeletionItem
from tests.factories import (
    ContactRecordFactory,
    ContractFactory,
    IdentityDocumentFactory,
    MemberFactory,
    grant_all_consents,
)
from tests.requests import verified_request

Kind, Outcome = rules.Kind, rules.Outcome
Decision = DeletionItem.Decision


def years_ago(years: int) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))


@pytest.mark.parametrize(
    ("target", "ground"),
    [("identity_documents", "aml_retention"), ("contracts", "contract_record")],
)
def test_an_item_under_a_retention_duty_is_refused_with_its_ground_at_once(target, ground, operator):
    member = MemberFactory()
    ContractFactory(member=member)  # the relationship runs
    ticket = verified_request(Kind.DELETION, member=member, actor=operator)
    item = services.add_deletion_item(ticket, target=target, actor=operator)
    assert item.decision == Decision.REFUSED
    assert item.ground == ground

    with pytest.raises(ValidationError, match="保存義務"):
        services.decide_deletion_item(item, actor=operator, accept=True)
    item.refresh_from_db()
    assert item.decision == Decision.REFUSED and item.ground == ground


def test_identity_documents_of_a_relationship_that_ended_eight_years_ago_can_be_erased(operator, supervisor):
    member = MemberFactory()
    ContractFactory(member=member, status=ContractStatus.ENDED, ended_on=years_ago(8))
    document = IdentityDocumentFactory(member=member, number="AB1234567")
    ticket = verified_request(Kind.DELETION, member=member, actor=operator)
    item = services.add_deletion_item(ticket, target="identity_documents", actor=operator)
    assert item.decision == Decision.PENDING and item.ground == ""
    services.decide_deletion_item(item, actor=operator, accept=True)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)

    document = IdentityDocument.objects.get(pk=document.pk)
    assert document.number == "" and document.note == ERASED_TEXT
    assert DeletionItem.objects.get(pk=item.pk).erased_count == 1


def test_identity_documents_stay_for_seven_years_after_the_relationship_ended(operator):
    member = MemberFactory()
    ContractFactory(member=member, status=ContractStatus.ENDED, ended_on=years_ago(6))
    assert selectors.retention_ground(member, "identity_documents") == "aml_retention"


def test_a_declined_applicant_s_records_are_kept_seven_years_from_the_application(db):
    member = MemberFactory()
    ContractFactory(
        member=member,
        status=ContractStatus.DECLINED,
        decline_reason="credit_judgement",
        contracted_on=None,
        applied_on=date(2018, 6, 1),
    )
    assert (
        selectors.retention_ground(member, "identity_documents", today=date(2025, 5, 31)) == "aml_retention"
    )
    assert selectors.retention_ground(member, "identity_documents", today=date(2025, 6, 2)) == ""


def test_transaction_books_are_kept_ten_years_after_the_last_contract_ended(db):
    member = MemberFactory()
    ContractFactory(member=member, status=ContractStatus.ENDED, ended_on=date(2015, 3, 31))
    assert selectors.retention_ground(member, "contracts", today=date(2025, 3, 30)) == "contract_record"
    assert selectors.retention_ground(member, "contracts", today=date(2025, 4, 1)) == ""


def test_seven_years_from_a_leap_day_are_counted_without_error(db):
    member = MemberFactory()
    ContractFactory(member=member, status=ContractStatus.ENDED, ended_on=date(2016, 2, 29))
    assert (
        selectors.retention_ground(member, "identity_documents", today=date(2023, 2, 27)) == "aml_retention"
    )
    assert selectors.retention_ground(member, "identity_documents", today=date(2023, 3, 1)) == ""


def test_accepted_contact_records_are_erased_on_approval_and_in_their_older_history(operator, supervisor):
    member = MemberFactory()
    ContractFactory(member=member)
    record = ContactRecordFactory(member=member, summary="転居予定の相談", recording_ref="REC-0001")
    record.summary = "転居予定の相談（勤務先の変更を含む）"
    record.save()
    other_member_record = ContactRecordFactory(summary="別の会員の相談")
    assert record.history.count() == 2

    ticket = verified_request(Kind.DELETION, member=member, actor=operator)
    contacts = services.add_deletion_item(ticket, target="contact_records", actor=operator)
    documents = services.add_deletion_item(ticket, target="identity_documents", actor=operator)
    assert documents.decision == Decision.REFUSED
    services.decide_deletion_item(contacts, actor=operator, accept=True)
    with pytest.raises(ValidationError, match="一致しません"):
        services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.submit_for_approval(
        ticket, outcome=Outcome.PARTLY, reason="本人確認記録は法令により保存します", actor=operator
    )
    assert ContactRecord.objects.get(pk=record.pk).summary.startswith("転居予定")  # not before approval

    services.approve(ticket, actor=supervisor)

    record = ContactRecord.objects.get(pk=record.pk)
    assert record.summary == ERASED_TEXT and record.recording_ref == ""
    history = list(record.history.order_by("history_date", "history_id"))
    assert len(history) == 3
    assert all(row.summary == ERASED_TEXT and row.recording_ref == "" for row in history)
    assert history[-1].history_change_reason.startswith(f"{ticket.number} ")
    assert history[-1].history_user == supervisor
    assert ContactRecord.objects.get(pk=other_member_record.pk).summary == "別の会員の相談"
    assert other_member_record.history.get().summary == "別の会員の相談"
    assert DeletionItem.objects.get(pk=contacts.pk).erased_count == 1
    assert DeletionItem.objects.get(pk=documents.pk).erased_count == 0


def test_erased_count_counts_every_record_of_the_target(operator, supervisor):
    member = MemberFactory()
    for summary in ("一件目", "二件目", "三件目"):
        ContactRecordFactory(member=member, summary=summary)
    ticket = verified_request(Kind.DELETION, member=member, actor=operator)
    item = services.add_deletion_item(ticket, target="contact_records", actor=operator)
    services.decide_deletion_item(item, actor=operator, accept=True)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)
    assert DeletionItem.objects.get(pk=item.pk).erased_count == 3
    assert set(ContactRecord.objects.filter(member=member).values_list("summary", flat=True)) == {ERASED_TEXT}


def test_keeping_an_item_needs_a_retention_ground(operator):
    ticket = verified_request(Kind.DELETION, member=MemberFactory(), actor=operator)
    item = services.add_deletion_item(ticket, target="public_records", actor=operator)
    with pytest.raises(ValidationError) as exc:
        services.decide_deletion_item(item, actor=operator, accept=False)
    assert "ground" in exc.value.message_dict
    services.decide_deletion_item(item, actor=operator, accept=False, ground="contract_record")
    item.refresh_from_db()
    assert item.decision == Decision.REFUSED and item.ground == "contract_record"


def test_a_target_the_system_cannot_erase_cannot_be_accepted(operator):
    member = MemberFactory()  # no contract: no retention duty, but no erasure routine either
    ticket = verified_request(Kind.DELETION, member=member, actor=operator)
    item = services.add_deletion_item(ticket, target="bureau_registrations", actor=operator)
    assert item.decision == Decision.PENDING
    with pytest.raises(ValidationError):
        services.decide_deletion_item(item, actor=operator, accept=True)
    item.refresh_from_db()
    assert item.decision == Decision.PENDING


def test_unknown_targets_and_duplicates_are_refused(operator):
    ticket = verified_request(Kind.DELETION, member=MemberFactory(), actor=operator)
    with pytest.raises(ValidationError):
        services.add_deletion_item(ticket, target="everything", actor=operator)
    services.add_deletion_item(ticket, target="public_records", actor=operator)
    with pytest.raises(ValidationError):
        services.add_deletion_item(ticket, target="public_records", actor=operator)
    assert DeletionItem.objects.filter(ticket=ticket).count() == 1


def test_a_deletion_of_marketing_use_withdraws_the_refusable_purposes(operator, supervisor):
    member = MemberFactory()
    grant_all_consents(member)
    ticket = verified_request(Kind.DELETION, member=member, actor=operator)
    item = services.add_deletion_item(ticket, target="marketing", actor=operator)
    services.decide_deletion_item(item, actor=operator, accept=True)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)
    withdrawn = set(
        Consent.objects.filter(member=member, granted=False).values_list("purpose__code", flat=True)
    )
    assert withdrawn == {"marketing_own", "marketing_partner", "research"}
