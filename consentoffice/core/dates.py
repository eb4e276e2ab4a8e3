"""Calendar arithmetic the retention and registration rules share."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the last day of the target month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later; 29 February falls back to 28 February in a common year."""
    return add_months(day, 12 * years)


def period_end(day: date, *, months: int = 0, years: int = 0) -> date:
    """The last day of a period of ``months`` and ``years`` that runs from an event on ``day``,
    counted as the Civil Code counts it (民法140条・143条).

    Art. 140: the day of the event is not counted, so the period is reckoned from the next day.
    Art. 143(2): it ends on the day before the day of the last month that corresponds to that first
    day, or at the end of the last month when that month has no such day. So 10 Jan + 6 months →
    10 Jul, 28 Feb + 6 months → 31 Aug, 31 Aug + 6 months → 28/29 Feb. A period of nothing ends on
    ``day`` itself. It differs from ``add_months`` only when ``day`` is the last day of its month.
    """
    total = months + 12 * years
    if total < 0:
        raise ValueError("a period cannot be negative")
    first = day + timedelta(days=1)
    index = first.month - 1 + total
    year, month = first.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if first.day > last:
        return date(year, month, last)
    return date(year, month, first.day) - timedelta(days=1)
