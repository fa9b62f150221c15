"""Federal holidays and Reg E business days, against the published OPM calendars."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.cases.business_days import (
    add_business_days,
    business_days_between,
    is_business_day,
    observed_holidays,
)


def test_2021_observed_days_include_new_year_of_2022_on_friday_31_december():
    """Given 2021 (Christmas and New Year's Day 2022 on Saturdays, Juneteenth's first year),
    When its observed holidays are computed, Then they match OPM's 2021 calendar."""
    assert sorted(observed_holidays(2021)) == [
        date(2021, 1, 1), date(2021, 1, 18), date(2021, 2, 15), date(2021, 5, 31), date(2021, 6, 18),
        date(2021, 7, 5), date(2021, 9, 6), date(2021, 10, 11), date(2021, 11, 11), date(2021, 11, 25),
        date(2021, 12, 24), date(2021, 12, 31),
    ]


def test_2022_has_no_new_year_holiday_of_its_own():
    """Given 1 January 2022 is a Saturday, When 2022's holidays are computed, Then none falls in
    January's first week (it was observed in 2021) and Christmas moves to Monday 26 December."""
    days = observed_holidays(2022)
    assert not any(d.month == 1 and d.day <= 7 for d in days)
    assert date(2022, 12, 26) in days and date(2022, 6, 20) in days  # Juneteenth on a Sunday -> Monday


@pytest.mark.parametrize(
    "day,expected",
    [
        (date(2026, 7, 3), False),  # July 4 2026 is a Saturday: observed Friday 3 July
        (date(2026, 7, 4), False),  # Saturday
        (date(2026, 7, 6), True),
        (date(2025, 11, 27), False),  # Thanksgiving
        (date(2025, 11, 28), True),  # the day after is not a federal holiday
        (date(2027, 6, 18), False),  # Juneteenth 2027 on a Saturday -> Friday 18 June
        (date(2020, 6, 19), True),  # before Juneteenth was a federal holiday
        (date(2026, 1, 19), False),  # MLK day: third Monday of January
        (date(2026, 5, 25), False),  # Memorial Day: last Monday of May
    ],
)
def test_business_day(day, expected):
    """Given a date around a holiday, When asked whether banks are open, Then the federal rule answers."""
    assert is_business_day(day) is expected


def test_adding_business_days_skips_weekends_and_holidays_and_never_counts_the_start():
    """Given a notice on Wednesday 22 December 2021, When 10 business days are added, Then
    Christmas (observed Fri 24) and New Year (observed Fri 31) are skipped: Friday 7 January 2022."""
    assert add_business_days(date(2021, 12, 22), 10) == date(2022, 1, 7)
    assert business_days_between(date(2021, 12, 22), date(2022, 1, 7)) == 10
    assert add_business_days(date(2021, 12, 22), 0) == date(2021, 12, 22)
