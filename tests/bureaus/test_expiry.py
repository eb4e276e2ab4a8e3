"""Registrations lapse at the end of their period (clause Art. 3(3)); a scheduled job marks them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bureaus import services, tasks
from bureaus.models import Submission, SubmissionStatus
from bureaus.selectors import registrations_for_member


def _inquire(operator, contract, bureau):
    return services.make_inquiry(
        actor=operator,
        contract=contract,
        bureau=bureau,
        purpose="ability_to_pay",
        inquired_at=datetime(2024, 1, 10, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
    )


def test_registration_expires_the_day_after_its_last_day(operator, system, contract, cic):
    _inquire(operator, contract, cic)
    assert services.expire_registrations(actor=system, today=date(2024, 7, 10)) == 0
    assert services.expire_registrations(actor=system, today=date(2024, 7, 11)) == 1
    submission = Submission.objects.get()
    assert submission.status == SubmissionStatus.EXPIRED
    history = submission.history.first()
    assert (history.history_user, history.history_change_reason) == (system, "登録期間の満了")
    assert list(registrations_for_member(contract.member)) == []


def test_expiry_is_idempotent(operator, system, contract, cic):
    _inquire(operator, contract, cic)
    assert services.expire_registrations(actor=system, today=date(2025, 1, 1)) == 1
    history_rows = Submission.history.count()
    assert services.expire_registrations(actor=system, today=date(2025, 1, 1)) == 0
    assert Submission.history.count() == history_rows


def test_registrations_running_with_a_contract_never_expire_while_it_runs(system, formed_contract):
    services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    assert services.expire_registrations(actor=system, today=date(2099, 1, 1)) == 0


def test_superseded_records_are_left_alone(operator, supervisor, system, contract, cic):
    _inquire(operator, contract, cic)
    services.record_deletion(actor=supervisor, submission=Submission.objects.get(), reason="T-3")
    assert services.expire_registrations(actor=system, today=date(2099, 1, 1)) == 1  # the deletion only
    assert Submission.objects.filter(status=SubmissionStatus.SUPERSEDED).count() == 1


def test_expire_task_runs_as_the_system_user(operator, contract, cic):
    _inquire(operator, contract, cic)
    Submission.objects.update(registered_until=date(2000, 1, 1))
    assert tasks.expire_registrations.apply().get() == {"expired": 1}
    assert Submission.objects.get().history.first().history_user.username == "system"
