"""Periods counted as the Civil Code counts them (民法140条・143条), one table for
``consentoffice.core.dates.period_end``: the day of the event is not counted, and the period ends the
day before the corresponding day of the last month, or at the end of a month without one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from consentoffice.core.dates import add_months, period_end

# (event day, months, years, last day of the period)
PERIODS = [
    # DESIGN.md, Retention: the three examples.
    (date(2025, 1, 10), 6, 0, date(2025, 7, 10)),
    (date(2025, 2, 28), 6, 0, date(2025, 8, 31)),
    (date(2024, 8, 31), 6, 0, date(2025, 2, 28)),
    (date(2023, 8, 31), 6, 0, date(2024, 2, 29)),  # end of a leap February
    # A month end runs to the end of the last month, however long that month is.
    (date(2024, 4, 30), 6, 0, date(2024, 10, 31)),
    (date(2024, 9, 30), 1, 0, date(2024, 10, 31)),
    (date(2024, 2, 29), 1, 0, date(2024, 3, 31)),
    (date(2023, 2, 28), 1, 0, date(2023, 3, 31)),
    # The first counted day has no twin in the last month: that month's end.
    (date(2024, 1, 30), 1, 0, date(2024, 2, 29)),
    (date(2025, 1, 29), 1, 0, date(2025, 2, 28)),
    (date(2024, 1, 31), 1, 0, date(2024, 2, 29)),
    (date(2025, 3, 30), 1, 0, date(2025, 4, 30)),
    # Mid-month: the same day number in the last month.
    (date(2024, 1, 28), 1, 0, date(2024, 2, 28)),
    (date(2024, 12, 15), 12, 0, date(2025, 12, 15)),
    (date(2024, 11, 30), 3, 0, date(2025, 2, 28)),
    # Years.
    (date(2024, 2, 29), 0, 1, date(2025, 2, 28)),
    (date(2023, 2, 28), 0, 1, date(2024, 2, 29)),  # counted from 1 March, so the leap day is in
    (date(2021, 2, 28), 0, 3, date(2024, 2, 29)),
    (date(2020, 12, 31), 0, 5, date(2025, 12, 31)),
    (date(2025, 12, 31), 0, 1, date(2026, 12, 31)),
    (date(2024, 6, 15), 0, 3, date(2027, 6, 15)),
    (date(2024, 6, 30), 60, 0, date(2029, 6, 30)),
    (date(2024, 5, 31), 60, 0, date(2029, 5, 31)),
    # Months and years together; a period of nothing ends on the day itself.
    (date(2024, 8, 31), 6, 1, date(2026, 2, 28)),
    (date(2024, 3, 15), 0, 0, date(2024, 3, 15)),
    (date(2024, 3, 31), 0, 0, date(2024, 3, 31)),
]


@pytest.mark.parametrize(("day", "months", "years", "last"), PERIODS, ids=lambda v: str(v))
def test_a_period_ends_as_the_civil_code_counts_it(day, months, years, last):
    assert period_end(day, months=months, years=years) == last


def test_years_are_twelve_months():
    for day, _months, years, last in PERIODS:
        if years and not _months:
            assert period_end(day, months=12 * years) == last


def test_a_negative_period_is_refused():
    with pytest.raises(ValueError):
        period_end(date(2024, 1, 1), months=-1)


@pytest.mark.parametrize("months", [1, 6, 12, 36, 60])
def test_only_a_month_end_counts_differently_from_adding_calendar_months(months):
    """What the data migration bureaus 0005 relies on to recount only rows that can differ."""
    day = date(2020, 1, 1)
    while day < date(2025, 1, 1):
        if period_end(day, months=months) != add_months(day, months):
            assert (day + timedelta(days=1)).day == 1, day
        day += timedelta(days=1)
