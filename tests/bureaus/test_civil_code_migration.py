"""bureaus 0005_civil_code_periods: stored dates counted the old way (calendar months added to the
anchor) are recounted as the Civil Code counts them, only where the two differ, with history."""

from __future__ import annotations

from datetime import date
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from bureaus.models import Submission
from members.models import ProvisionRecord
from tests.factories import ContractFactory, MemberFactory

migration = import_module("bureaus.migrations.0005_civil_code_periods")
EDITOR = SimpleNamespace(connection=connection)
REASON = "民法の期間計算（初日不算入）により期限を再計算"


def _submission(bureau, member, record_type, event_date, until, *, contract=None, status="accepted"):
    return Submission.objects.create(
        bureau=bureau,
        member=member,
        contract=contract,
        record_type=record_type,
        event_date=event_date,
        registered_until=until,
        status=status,
    )


def _recounts(obj, field: str = "registered_until") -> list[tuple]:
    """The history rows the recount wrote (creating a row in the test writes one of its own)."""
    rows = obj.history.filter(history_type="~")
    return [(getattr(h, field), h.history_change_reason, h.history_user.username) for h in rows]


def _run():
    migration.recount_registrations(apps, EDITOR)
    migration.recount_provision_records(apps, EDITOR)


# (bureau, record type, event date, contract end, stored the old way, counted now)
ROWS = [
    ("CIC", "application", date(2025, 2, 28), None, date(2025, 8, 28), date(2025, 8, 31)),
    ("JICC", "application", date(2024, 4, 30), None, date(2024, 10, 30), date(2024, 10, 31)),
    ("JICC", "credit_transfer", date(2023, 2, 28), None, date(2024, 2, 28), date(2024, 2, 29)),
    ("CIC", "contract", date(2020, 1, 20), date(2023, 2, 28), date(2028, 2, 28), date(2028, 2, 29)),
    ("JICC", "delinquency", date(2021, 5, 1), date(2024, 9, 30), date(2029, 9, 30), date(2029, 9, 30)),
    # Not on a month end: the same either way, not touched.
    ("CIC", "application", date(2025, 1, 10), None, date(2025, 7, 10), date(2025, 7, 10)),
    ("CIC", "application", date(2024, 8, 31), None, date(2025, 2, 28), date(2025, 2, 28)),
]


@pytest.mark.parametrize(("code", "record_type", "event", "end", "old", "new"), ROWS)
def test_each_row_anchored_on_a_month_end_is_recounted_with_history(
    db, code, record_type, event, end, old, new
):
    from bureaus.models import Bureau

    member = MemberFactory()
    contract = ContractFactory(member=member, ended_on=end, status="ended" if end else "formed")
    row = _submission(Bureau.objects.get(code=code), member, record_type, event, old, contract=contract)
    _run()
    row.refresh_from_db()
    assert row.registered_until == new
    assert _recounts(row) == ([] if new == old else [(new, REASON, "system")])


def test_a_date_set_otherwise_and_a_running_contract_are_left_alone(db, cic):
    member = MemberFactory()
    other = _submission(cic, member, "application", date(2025, 2, 28), date(2025, 9, 1))
    running = _submission(
        cic, member, "contract", date(2024, 1, 31), None, contract=ContractFactory(member=member)
    )
    _run()
    other.refresh_from_db()
    running.refresh_from_db()
    assert (other.registered_until, running.registered_until) == (date(2025, 9, 1), None)
    assert not Submission.history.filter(history_type="~").exists()


def test_identity_data_follows_the_longest_recounted_registration(db, cic, jicc):
    member = MemberFactory()
    _submission(cic, member, "application", date(2025, 2, 28), date(2025, 8, 28))
    _submission(cic, member, "application", date(2025, 1, 10), date(2025, 7, 10))
    identity = _submission(cic, member, "identity", date(2025, 2, 28), date(2025, 8, 28))
    # At the other bureau something runs open-ended: identity stays as it is.
    _submission(jicc, member, "application", date(2025, 2, 28), date(2025, 8, 28))
    _submission(jicc, member, "payment", date(2025, 1, 1), None, contract=ContractFactory(member=member))
    open_identity = _submission(jicc, member, "identity", date(2025, 2, 28), None)
    _run()
    identity.refresh_from_db()
    open_identity.refresh_from_db()
    assert identity.registered_until == date(2025, 8, 31)
    assert _recounts(identity) == [(date(2025, 8, 31), REASON, "system")]
    assert open_identity.registered_until is None


def test_provision_records_kept_the_old_way_are_recounted(db):
    member = MemberFactory()
    common = dict(member=member, recipient_kind="bureau", recipient="CIC", items=["birth_date"])
    leap = ProvisionRecord.objects.create(
        **common, basis="consent", provided_on=date(2021, 2, 28), kept_until=date(2024, 2, 28)
    )
    mid = ProvisionRecord.objects.create(
        **common, basis="contract", provided_on=date(2024, 5, 1), kept_until=date(2025, 5, 1)
    )
    _run()
    leap.refresh_from_db()
    mid.refresh_from_db()
    assert (leap.kept_until, mid.kept_until) == (date(2024, 2, 29), date(2025, 5, 1))
    assert _recounts(leap, "kept_until") == [(date(2024, 2, 29), REASON, "system")]
    assert _recounts(mid, "kept_until") == []


def test_running_it_again_changes_nothing(db, cic):
    member = MemberFactory()
    row = _submission(cic, member, "application", date(2025, 2, 28), date(2025, 8, 28))
    _run()
    _run()
    row.refresh_from_db()
    assert row.registered_until == date(2025, 8, 31)
    assert len(_recounts(row)) == 1
