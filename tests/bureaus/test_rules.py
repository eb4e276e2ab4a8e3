"""The registration periods of clause Art. 3(3), one test per rule of ``bureaus.rules.RULES``."""

from __future__ import annotations

from datetime import date

import pytest

from bureaus import rules
from bureaus.rules import RULES, RecordType, registered_until

EVENT = date(2024, 3, 15)
END = date(2025, 6, 30)

# (bureau, record type) -> (lapse date with the contract ended on END, lapse date while it runs)
EXPECTED = {
    ("CIC", RecordType.APPLICATION): (date(2024, 9, 15), date(2024, 9, 15)),
    ("JICC", RecordType.APPLICATION): (date(2024, 9, 15), date(2024, 9, 15)),
    **{
        (code, rt): (date(2030, 6, 30), None)
        for code in ("CIC", "JICC")
        for rt in (
            RecordType.CONTRACT,
            RecordType.PAYMENT,
            RecordType.DELINQUENCY,
            RecordType.DELINQUENCY_RESOLVED,
            RecordType.CONTRACT_END,
        )
    },
    **{
        ("JICC", rt): (date(2030, 6, 30), None)
        for rt in (
            RecordType.COLLECTION,
            RecordType.DEBT_SETTLEMENT,
            RecordType.GUARANTEE_PERFORMANCE,
            RecordType.FORCED_CANCELLATION,
            RecordType.BANKRUPTCY,
        )
    },
    ("JICC", RecordType.CREDIT_TRANSFER): (date(2025, 3, 15), date(2025, 3, 15)),
    # Identity data without anything else registered lapses at once (see the identity tests).
    **{
        (code, rt): (EVENT, EVENT)
        for code in ("CIC", "JICC")
        for rt in (RecordType.IDENTITY, RecordType.CORRECTION)
    },
    ("CIC", RecordType.DELETION): (EVENT, EVENT),
    ("JICC", RecordType.DELETION): (EVENT, EVENT),
}


def test_every_rule_of_the_table_is_tested():
    assert set(EXPECTED) == set(RULES)


@pytest.mark.parametrize(
    ("key", "expected"), sorted(EXPECTED.items()), ids=[f"{c}-{rt}" for c, rt in sorted(EXPECTED)]
)
def test_each_rule_gives_its_registration_period(key, expected):
    code, record_type = key
    ended, running = expected
    assert registered_until(bureau=code, record_type=record_type, event_date=EVENT, contract_end=END) == ended
    assert registered_until(bureau=code, record_type=record_type, event_date=EVENT) == running


def test_application_fact_runs_six_months_from_the_inquiry_at_cic_and_jicc():
    for code in ("CIC", "JICC"):
        assert registered_until(bureau=code, record_type="application", event_date=date(2024, 1, 10)) == date(
            2024, 7, 10
        )


# DESIGN.md, Retention (Civil Code Art. 140, 143): the anchor day is not counted.
CIVIL_CODE_PERIODS = [
    # (record type, event date, contract end, lapse date)
    ("application", date(2025, 1, 10), None, date(2025, 7, 10)),
    ("application", date(2025, 2, 28), None, date(2025, 8, 31)),
    ("application", date(2024, 8, 31), None, date(2025, 2, 28)),
    ("application", date(2023, 8, 31), None, date(2024, 2, 29)),
    ("application", date(2024, 4, 30), None, date(2024, 10, 31)),
    ("credit_transfer", date(2023, 2, 28), None, date(2024, 2, 29)),
    ("credit_transfer", date(2024, 2, 29), date(2024, 1, 1), date(2025, 2, 28)),
    ("contract", date(2020, 1, 1), date(2024, 2, 29), date(2029, 2, 28)),
    ("contract", date(2020, 1, 1), date(2023, 2, 28), date(2028, 2, 29)),
    ("payment", date(2020, 1, 1), date(2024, 9, 30), date(2029, 9, 30)),
    ("delinquency", date(2019, 1, 1), date(2024, 4, 30), date(2029, 4, 30)),
    ("contract_end", date(2024, 11, 30), date(2024, 11, 30), date(2029, 11, 30)),
    ("contract_end", date(2020, 12, 31), date(2020, 12, 31), date(2025, 12, 31)),
]


@pytest.mark.parametrize(("record_type", "event", "end", "lapse"), CIVIL_CODE_PERIODS)
def test_periods_are_counted_as_the_civil_code_counts_them(record_type, event, end, lapse):
    for code in ("CIC", "JICC"):
        if rules.is_registered(code, record_type):
            assert (
                registered_until(bureau=code, record_type=record_type, event_date=event, contract_end=end)
                == lapse
            )


def test_contract_facts_return_none_while_the_contract_runs():
    assert registered_until(bureau="CIC", record_type="payment", event_date=EVENT) is None


def test_contract_facts_run_five_years_from_the_contract_end_not_the_event():
    assert registered_until(
        bureau="JICC", record_type="delinquency", event_date=date(2019, 1, 1), contract_end=date(2024, 5, 31)
    ) == date(2029, 5, 31)


def test_credit_transfer_runs_one_year_from_the_event_even_after_the_contract_ended():
    assert registered_until(
        bureau="JICC",
        record_type="credit_transfer",
        event_date=date(2024, 2, 29),
        contract_end=date(2024, 1, 1),
    ) == date(2025, 2, 28)


def test_identity_data_lasts_as_long_as_the_longest_other_registration():
    others = [date(2024, 9, 1), date(2029, 6, 30)]
    assert registered_until(bureau="CIC", record_type="identity", event_date=EVENT, others=others) == date(
        2029, 6, 30
    )


def test_identity_data_runs_open_ended_while_a_contract_fact_does():
    others = [date(2024, 9, 1), None]
    assert registered_until(bureau="JICC", record_type="identity", event_date=EVENT, others=others) is None


def test_bureau_may_be_an_instance_or_a_code(cic):
    assert registered_until(bureau=cic, record_type="application", event_date=EVENT) == date(2024, 9, 15)


@pytest.mark.parametrize(
    ("code", "record_type"),
    [
        ("KSC", "application"),  # the partner bureau is only inquired
        ("CIC", "credit_transfer"),  # a JICC transaction fact
        ("CIC", "bankruptcy"),
        ("JICC", "unknown"),
        ("XYZ", "payment"),
    ],
)
def test_an_unknown_combination_raises_value_error(code, record_type):
    with pytest.raises(ValueError):
        registered_until(bureau=code, record_type=record_type, event_date=EVENT)


def test_rules_cover_every_record_type_of_the_model():
    from bureaus.models import RecordType as ModelRecordType

    assert {rt for _code, rt in RULES} == set(ModelRecordType.values)
    assert all(rules.is_registered(code, rt) for code, rt in RULES)
