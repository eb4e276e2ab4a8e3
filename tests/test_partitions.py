"""The payment-record and bureau-submission histories are partitioned by month on PostgreSQL and
rolled forward by beat (consentoffice.core.partitions; issue 18)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from consentoffice.audit.seal import seal_audit_trail, verify_audit_trail
from consentoffice.core import partitions
from consentoffice.core.history import save_tracked
from members import models as m
from tests.factories import ContractFactory

PAYMENTS = "members_historicalpaymentrecord"


def _today():
    return timezone.localdate()


def _where(history_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {PAYMENTS} WHERE history_id = %s", [history_id])
        return cursor.fetchone()[0]


def _payment_history_at(when, operator) -> int:
    payment = m.PaymentRecord(
        contract=ContractFactory(), month=date(2026, 1, 1), billed_amount=1000, status_code="$"
    )
    payment._history_date = when
    save_tracked(payment, actor=operator, reason="入金記録の取込")
    return m.PaymentRecord.history.filter(id=payment.pk).values_list("history_id", flat=True).get()


@pytest.mark.postgres
@pytest.mark.django_db
def test_each_large_history_is_partitioned_from_this_month_to_three_ahead():
    for table in partitions.PARTITIONED:
        assert partitions.is_partitioned(table)
        names = partitions.partitions(table)
        for ahead in range(partitions.MONTHS_AHEAD + 1):
            assert partitions.partition_name(table, partitions._month(_today(), ahead)) in names
        assert f"{table}_default" in names


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_row_lands_in_its_months_partition_or_the_default_and_the_seal_verifies(operator):
    now = timezone.now()
    this_month = _payment_history_at(now, operator)
    long_ago = _payment_history_at(now - timedelta(days=3650), operator)
    assert _where(this_month) == partitions.partition_name(PAYMENTS, partitions._month(_today()))
    assert _where(long_ago) == f"{PAYMENTS}_default"
    assert seal_audit_trail(delay_seconds=0) > 0
    partitions.roll_forward()  # the sealed row moves into its month's partition: still verifies
    assert _where(long_ago) != f"{PAYMENTS}_default"
    result = verify_audit_trail()
    assert result.ok, [p.describe() for p in result.problems]


@pytest.mark.postgres
@pytest.mark.django_db
def test_rolling_forward_adds_the_coming_months_once_and_moves_their_rows_out_of_the_default(operator):
    later = _today() + timedelta(days=190)  # past the months made ahead: lands in the default
    row = _payment_history_at(timezone.now() + timedelta(days=190), operator)
    assert _where(row) == f"{PAYMENTS}_default"

    created = partitions.roll_forward(today=later)
    month = partitions._month(later)
    assert partitions.partition_name(PAYMENTS, month) in created
    assert _where(row) == partitions.partition_name(PAYMENTS, month)
    assert m.PaymentRecord.history.filter(history_id=row).exists()
    assert partitions.roll_forward(today=later) == []


@pytest.mark.django_db
def test_the_roll_is_scheduled_daily_and_does_nothing_on_sqlite(settings):
    from consentoffice import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["roll-history-partitions"]
    assert entry["task"] == tasks.roll_history_partitions.name
    if connection.vendor == "postgresql":
        assert tasks.roll_history_partitions() == []  # the migration made this month and three ahead
    else:
        assert tasks.roll_history_partitions() == [] and not partitions.is_partitioned(PAYMENTS)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_roll_gives_back_dated_rows_their_own_months_partition(operator):
    row = _payment_history_at(timezone.now() - timedelta(days=800), operator)
    assert _where(row) == f"{PAYMENTS}_default"
    month = partitions._month(timezone.localtime(timezone.now() - timedelta(days=800)).date())
    assert partitions.partition_name(PAYMENTS, month) in partitions.roll_forward()
    assert _where(row) == partitions.partition_name(PAYMENTS, month)
