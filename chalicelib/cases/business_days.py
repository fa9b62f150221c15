"""US federal holidays and Regulation E business days, computed for any year (no list to go stale).

A business day here is every day except Saturday, Sunday and a US federal holiday (5 U.S.C. 6103),
the calendar banks close on. A holiday on a Saturday is observed on the Friday before, one on a
Sunday on the Monday after (Executive Order 11582), so New Year's Day 2022 (a Saturday) closes
Friday 31 December 2021: the observed day can fall in the previous year.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

# Juneteenth National Independence Day: a federal holiday from 2021 (Pub. L. 117-17).
JUNETEENTH_FROM = 2021


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based) ``weekday`` (Monday=0) of the month; n=-1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def observed(day: date) -> date:
    """Saturday -> Friday before, Sunday -> Monday after, else the day itself."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def federal_holidays(year: int) -> dict[date, str]:
    """The holidays of ``year`` as their actual dates (not moved for weekends)."""
    mon, thu = 0, 3
    days = {
        date(year, 1, 1): "New Year's Day",
        nth_weekday(year, 1, mon, 3): "Birthday of Martin Luther King, Jr.",
        nth_weekday(year, 2, mon, 3): "Washington's Birthday",
        nth_weekday(year, 5, mon, -1): "Memorial Day",
        date(year, 7, 4): "Independence Day",
        nth_weekday(year, 9, mon, 1): "Labor Day",
        nth_weekday(year, 10, mon, 2): "Columbus Day",
        date(year, 11, 11): "Veterans Day",
        nth_weekday(year, 11, thu, 4): "Thanksgiving Day",
        date(year, 12, 25): "Christmas Day",
    }
    if year >= JUNETEENTH_FROM:
        days[date(year, 6, 19)] = "Juneteenth National Independence Day"
    return days


@lru_cache(maxsize=64)
def observed_holidays(year: int) -> dict[date, str]:
    """Days of ``year`` on which banks close for a federal holiday, weekend rules applied. Looks
    at the next year too: its New Year's Day on a Saturday is observed on 31 December of this one."""
    out: dict[date, str] = {}
    for y in (year, year + 1):
        for day, name in federal_holidays(y).items():
            obs = observed(day)
            if obs.year == year:
                out[obs] = name if obs == day else f"{name} (observed)"
    return out


def holiday_name(day: date) -> str | None:
    return observed_holidays(day.year).get(day)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in observed_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    """The ``days``-th business day after ``start`` (``start`` itself never counts: a notice
    received on a Friday starts its clock on the next business day)."""
    if days < 0:
        raise ValueError("days must not be negative")
    d = start
    while days > 0:
        d += timedelta(days=1)
        if is_business_day(d):
            days -= 1
    return d


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count, d = 0, start
    while d < end:
        d += timedelta(days=1)
        count += is_business_day(d)
    return count
