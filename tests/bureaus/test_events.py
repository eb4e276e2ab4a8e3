"""Each contract event creates its registration records (clause Art. 3(2)(3))."""

from __future__ import annotations

import ast
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from bureaus import services
from bureaus.models import Inquiry, RecordType, Submission, SubmissionStatus
from bureaus.selectors import registrations_for_member
from members.services import update_member
from tests.bureaus.conftest import make_payment

TOKYO = ZoneInfo("Asia/Tokyo")


def _inquire(actor, contract, bureau, when=datetime(2024, 1, 10, 10, 0, tzinfo=TOKYO)):
    return services.make_inquiry(
        actor=actor, contract=contract, bureau=bureau, purpose="ability_to_pay", inquired_at=when
    )


def test_inquiry_is_logged_and_registers_the_application_fact_for_six_months(operator, contract, cic):
    inquiry = _inquire(operator, contract, cic)
    assert (inquiry.operator, inquiry.member, inquiry.contract, inquiry.bureau) == (
        operator,
        contract.member,
        contract,
        cic,
    )
    submission = Submission.objects.get(record_type=RecordType.APPLICATION)
    assert submission.bureau == cic
    assert submission.inquiry == inquiry
    assert submission.event_date == date(2024, 1, 10)
    assert submission.registered_until == date(2024, 7, 10)
    assert submission.status == SubmissionStatus.PENDING
    assert submission.payload["identity"]["family_name_kana"] == "タカハシ"
    history = submission.history.get()
    assert history.history_user == operator
    assert "申込み" in history.history_change_reason


def test_inquiry_with_another_purpose_is_refused_and_nothing_is_saved(operator, contract, cic):
    with pytest.raises(ValidationError) as exc:
        services.make_inquiry(actor=operator, contract=contract, bureau=cic, purpose="marketing")
    assert "支払能力の調査" in str(exc.value)
    assert not Inquiry.objects.exists()
    assert not Submission.objects.exists()


def test_inquiry_needs_the_inquiry_permission(nobody, contract, cic):
    with pytest.raises(PermissionDenied):
        services.make_inquiry(actor=nobody, contract=contract, bureau=cic, purpose="ability_to_pay")


def test_inquiry_at_the_partner_bureau_registers_nothing(operator, contract, ksc):
    _inquire(operator, contract, "KSC")
    assert Inquiry.objects.filter(bureau=ksc).count() == 1
    assert not Submission.objects.exists()


def test_two_inquiries_on_the_same_day_register_the_application_once(operator, contract, cic):
    _inquire(operator, contract, cic)
    _inquire(operator, contract, cic)
    assert Inquiry.objects.count() == 2
    assert Submission.objects.filter(record_type=RecordType.APPLICATION).count() == 1


def test_formed_contract_is_registered_at_both_member_bureaus_while_it_runs(
    system, formed_contract, cic, jicc
):
    created = services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    assert {s.bureau for s in created} == {cic, jicc}
    assert all(s.registered_until is None and s.event_date == date(2024, 1, 20) for s in created)
    assert created[0].payload["contract"]["contract_no"] == formed_contract.contract_no
    assert "settlement_account" not in created[0].payload["contract"]


def test_recording_the_same_event_twice_registers_it_once(system, formed_contract):
    services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    assert Submission.objects.count() == 2


def test_monthly_payment_status_is_registered(system, formed_contract):
    payment = make_payment(formed_contract, date(2024, 2, 1))
    created = services.record_payment_status(actor=system, payment=payment)
    assert [s.record_type for s in created] == ["payment", "payment"]
    assert created[0].payload["payment"] == {
        "month": "2024-02-01",
        "status_code": "$",
        "billed_amount": 30000,
        "paid_amount": 30000,
        "balance": 120000,
        "days_overdue": 0,
    }


def test_61_days_overdue_registers_a_delinquency(system, formed_contract):
    payment = make_payment(formed_contract, date(2024, 4, 1), "A", days_overdue=61)
    created = services.record_payment_status(actor=system, payment=payment)
    assert sorted(s.record_type for s in created) == ["delinquency", "delinquency", "payment", "payment"]


def test_60_days_overdue_is_not_yet_adverse(system, formed_contract):
    payment = make_payment(formed_contract, date(2024, 4, 1), "A", days_overdue=60)
    created = services.record_payment_status(actor=system, payment=payment)
    assert {s.record_type for s in created} == {"payment"}


def test_three_months_unpaid_registers_a_delinquency_once(system, formed_contract):
    for month in (2, 3, 4, 5):
        payment = make_payment(formed_contract, date(2024, month, 1), "A", days_overdue=30)
        services.record_payment_status(actor=system, payment=payment)
    delinquencies = Submission.objects.filter(record_type="delinquency")
    assert delinquencies.count() == 2  # CIC and JICC, from April, not again in May
    assert set(delinquencies.values_list("event_date", flat=True)) == {date(2024, 4, 1)}


def test_payment_in_full_after_a_delinquency_registers_its_resolution(system, formed_contract, cic):
    services.record_payment_status(
        actor=system, payment=make_payment(formed_contract, date(2024, 4, 1), "A", days_overdue=61)
    )
    created = services.record_payment_status(
        actor=system, payment=make_payment(formed_contract, date(2024, 5, 1))
    )
    assert sorted(s.record_type for s in created) == ["delinquency_resolved"] * 2 + ["payment"] * 2
    assert not services.delinquency_open(formed_contract, cic)


def test_payment_in_full_without_a_delinquency_registers_no_resolution(system, formed_contract):
    created = services.record_payment_status(
        actor=system, payment=make_payment(formed_contract, date(2024, 5, 1))
    )
    assert {s.record_type for s in created} == {"payment"}


def test_contract_end_starts_the_five_years_of_every_contract_fact(system, formed_contract, member):
    services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    services.record_payment_status(actor=system, payment=make_payment(formed_contract, date(2024, 2, 1)))
    services.record_member_correction(actor=system, member=member, fields=["phone"], reason="test")
    assert Submission.objects.filter(registered_until__isnull=True).count() == 6
    formed_contract.status, formed_contract.ended_on = "ended", date(2024, 8, 31)
    formed_contract.save()

    created = services.record_contract_event(
        actor=system, contract=formed_contract, record_type="contract_end"
    )

    assert {s.registered_until for s in created} == {date(2029, 8, 31)}
    assert not Submission.objects.filter(registered_until__isnull=True).exists()
    assert set(Submission.objects.values_list("registered_until", flat=True)) == {date(2029, 8, 31)}
    contract_fact = Submission.objects.filter(record_type="contract").first()
    assert contract_fact.history.first().history_change_reason == "契約終了により登録期限が確定"


def test_contract_end_of_a_running_contract_is_refused(system, formed_contract):
    with pytest.raises(ValidationError):
        services.record_contract_event(actor=system, contract=formed_contract, record_type="contract_end")


@pytest.mark.parametrize(
    "record_type",
    ["collection", "debt_settlement", "guarantee_performance", "forced_cancellation", "bankruptcy"],
)
def test_transaction_facts_are_registered_at_jicc_only(system, formed_contract, jicc, record_type):
    created = services.record_contract_event(
        actor=system, contract=formed_contract, record_type=record_type, event_date=date(2024, 6, 1)
    )
    assert [(s.bureau, s.registered_until) for s in created] == [(jicc, None)]


def test_credit_transfer_is_registered_at_jicc_for_one_year(system, formed_contract, jicc):
    created = services.record_contract_event(
        actor=system, contract=formed_contract, record_type="credit_transfer", event_date=date(2024, 6, 1)
    )
    assert [(s.bureau, s.registered_until) for s in created] == [(jicc, date(2025, 6, 1))]


def test_an_inquiry_type_cannot_be_recorded_as_a_contract_event(system, formed_contract):
    with pytest.raises(ValidationError):
        services.record_contract_event(actor=system, contract=formed_contract, record_type="application")


def test_correction_of_a_registered_item_creates_a_correction_per_bureau(
    operator, supervisor, contract, member, cic, jicc
):
    _inquire(operator, contract, cic)
    update_member(member, actor=supervisor, reason="T-1 訂正", phone="03-5996-2222", email="new@example.jp")

    created = services.record_member_correction(
        actor=supervisor, member=member, fields=["phone", "email"], reason="T-1 訂正請求に基づく訂正"
    )

    assert [s.bureau for s in created] == [cic]  # only where something is registered
    correction = created[0]
    assert correction.record_type == "correction"
    assert correction.payload["changes"] == {"phone": "0359962222"}  # e-mail is not registered
    assert correction.payload["changed_fields"] == ["phone"]
    assert correction.registered_until == date(2024, 7, 10)  # as long as the application fact
    assert correction.history.get().history_change_reason == "T-1 訂正請求に基づく訂正"


def test_correction_without_any_registration_creates_nothing(supervisor, member):
    assert (
        services.record_member_correction(actor=supervisor, member=member, fields=["phone"], reason="x") == []
    )


def test_correction_of_an_unregistered_item_creates_nothing(operator, supervisor, contract, member, cic):
    _inquire(operator, contract, cic)
    assert (
        services.record_member_correction(actor=supervisor, member=member, fields=["email"], reason="x") == []
    )


def test_correction_ignores_expired_registrations(operator, supervisor, contract, member, cic, system):
    _inquire(operator, contract, cic)
    services.expire_registrations(actor=system, today=date(2024, 7, 11))
    assert (
        services.record_member_correction(actor=supervisor, member=member, fields=["phone"], reason="x") == []
    )


def test_deletion_supersedes_the_wrong_registration(supervisor, operator, contract, cic):
    _inquire(operator, contract, cic)
    wrong = Submission.objects.get()
    deletion = services.record_deletion(actor=supervisor, submission=wrong, reason="T-2 削除請求")
    wrong.refresh_from_db()
    assert wrong.status == SubmissionStatus.SUPERSEDED
    assert (deletion.record_type, deletion.original, deletion.status) == ("deletion", wrong, "pending")
    assert list(registrations_for_member(contract.member)) == []


def test_registrations_for_member_lists_what_is_registered_where_and_until_when(
    operator, system, contract, member, cic, jicc
):
    _inquire(operator, contract, cic)
    _inquire(operator, contract, jicc)
    contract.status, contract.contracted_on = "formed", date(2024, 1, 20)
    contract.save()
    services.record_contract_event(actor=system, contract=contract, record_type="contract")
    rows = [(s.bureau.code, s.record_type, s.registered_until) for s in registrations_for_member(member)]
    assert rows == [
        ("CIC", "application", date(2024, 7, 10)),
        ("CIC", "contract", None),
        ("JICC", "application", date(2024, 7, 10)),
        ("JICC", "contract", None),
    ]


def test_sweep_registers_formed_ended_and_paid_contracts_once(operator, system, contract, cic):
    _inquire(operator, contract, cic)
    contract.status, contract.contracted_on = "formed", date(2024, 1, 20)
    contract.save()
    make_payment(contract, date(2024, 2, 1))
    assert services.sweep_contract_events(actor=system) == 4  # contract and payment at CIC and JICC
    contract.status, contract.ended_on = "ended", date(2024, 3, 31)
    contract.save()
    assert services.sweep_contract_events(actor=system) == 2
    assert services.sweep_contract_events(actor=system) == 0
    assert not Submission.objects.filter(registered_until__isnull=True).exists()


def test_members_app_does_not_import_bureaus():
    root = Path(__file__).resolve().parents[2] / "members"
    for source in root.rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(name == "bureaus" or name.startswith("bureaus.") for name in names), source
