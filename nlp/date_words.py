"""Loose time words customers use for a payment: seasons, holidays, a month on its own, "the other day".

Why separate from the exact dates in ``nlp.entities``: these name a stretch of days, never one day,
and a search must look across the whole stretch ("last summer" is June to August, not 1 June).
Everything is resolved against the caller's today and points to the past (payments are past).

Seasons are the one thing that depends on where the customer lives: ``hemisphere`` says which
(meteorological seasons: in the north summer is June to August, in the south December to
February). Holidays, months and vague words are the same everywhere.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Literal

from nlp import patterns as P

Hemisphere = Literal["north", "south"]

# Northern meteorological seasons: first month, three months long.
_SEASON_START_NORTH = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
SEASON_MONTHS = {"north": {"spring": "March to May", "summer": "June to August", "autumn": "September to November",
                           "winter": "December to February"},
                 "south": {"spring": "September to November", "summer": "December to February",
                           "autumn": "March to May", "winter": "June to August"}}

_MONTH = P.MONTH_NAME
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # A season needs a lead word or a year ("my spring water" is no date), unless it is all that was typed.
    ("dw_season", re.compile(r"(?i)(?:\b(?:(last|this|past|previous)\s+|(?:in|during|over|from|through)\s+(?:the\s+)?|the\s+)"
                             r"(summer|spring|autumn|winter|fall)(?:\s+(?:of\s+)?(\d{4}))?\b"
                             r"|^\s*(summer|spring|autumn|winter)(?:\s+(?:of\s+)?(\d{4}))?\s*[.!?]*\s*$"
                             r"|\b(summer|spring|autumn|winter|fall)\s+(?:of\s+)?(\d{4})\b)")),
    ("dw_holiday", re.compile(r"(?i)\b(?:(around|near|about|before|after|over|at|on|during)\s+)?(?:the\s+)?(?:last\s+)?"
                              r"(christmas eve|christmas|xmas|x-mas|new year'?s eve|new years?|thanksgiving|black friday|"
                              r"cyber monday|halloween|valentine'?s(?: day)?|easter|(?:the\s+)?(?:4th|fourth) of july|"
                              r"july (?:4th|fourth)|independence day|labor day|memorial day|boxing day)\b")),
    ("dw_month", re.compile(rf"(?i)\b(last|this|in|during|from|back in|early|late|mid|since|earlier in|end of|"
                            rf"beginning of|start of)\s+-?({_MONTH})\b\.?(?!\s*\d)")),
    ("dw_vague", re.compile(r"(?i)\b(the other day|a few days back|couple (?:of )?days back|recently|lately|"
                            r"a while (?:back|ago)|some time (?:back|ago)|a bit ago|a few weeks (?:back|ago)|"
                            r"couple (?:of )?weeks (?:back|ago)|a few months (?:back|ago)|a couple (?:of )?months (?:back|ago)|"
                            r"(?:over |on |at )?the weekend)\b")),
]
KINDS = {k for k, _ in PATTERNS}


def _clip(start: date, end: date, today: date) -> tuple[date, date, bool]:
    return start, min(end, today), True


def _month_span(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    y, m = divmod(year * 12 + month - 1 + n, 12)
    return y, m + 1


def season_span(season: str, which: str, year: int | None, today: date,
                hemisphere: Hemisphere = "north") -> tuple[date, date]:
    """The days of ``season``: "last" is the latest one already over, otherwise the latest one begun."""
    first = _SEASON_START_NORTH[season]
    if hemisphere == "south":
        first = (first + 5) % 12 + 1
    if year is not None:
        y0 = year - 1 if first == 12 else year  # "winter 2026" (north) is Dec 2025 to Feb 2026
        start = date(y0, first, 1)
    else:
        y0 = today.year if (today.month, today.day) >= (first, 1) else today.year - 1
        start = date(y0, first, 1)
    ey, em = _add_months(start.year, start.month, 2)
    end = _month_span(ey, em)[1]
    if year is None and which == "last" and end >= today:
        start, end = date(start.year - 1, start.month, 1), _month_span(ey - 1, em)[1]
    return start, end


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    return date(year, month, (h + l_ - 7 * m + 114) % 31 + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th ``weekday`` of the month (n = -1: the last one)."""
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1) if date(year, month, d).weekday() == weekday]
    return date(year, month, days[n] if n < 0 else days[n - 1])


def _holiday(name: str, year: int) -> tuple[date, int, int]:
    """The day and how many days before / after it a payment "around" it may be."""
    n = name.lower().replace("'", "").replace("x-mas", "xmas").replace("the ", "")
    if n in ("christmas eve",):
        return date(year, 12, 24), 3, 2
    if n in ("christmas", "xmas", "boxing day"):
        return date(year, 12, 25 if n != "boxing day" else 26), 10, 6
    if n.startswith("new year"):
        return date(year, 12, 31), 3, 3
    if n == "thanksgiving":
        return _nth_weekday(year, 11, 3, 4), 3, 3
    if n == "black friday":
        return _nth_weekday(year, 11, 3, 4) + timedelta(days=1), 1, 3
    if n == "cyber monday":
        return _nth_weekday(year, 11, 3, 4) + timedelta(days=4), 1, 1
    if n == "halloween":
        return date(year, 10, 31), 4, 2
    if n.startswith("valentine"):
        return date(year, 2, 14), 4, 2
    if n == "easter":
        return _easter(year), 3, 2
    if n == "labor day":
        return _nth_weekday(year, 9, 0, 1), 3, 1
    if n == "memorial day":
        return _nth_weekday(year, 5, 0, -1), 3, 1
    return date(year, 7, 4), 3, 2  # the fourth of July / Independence Day


def resolve(kind: str, m: re.Match[str], today: date, hemisphere: Hemisphere = "north") -> tuple[date, date, bool] | None:
    """(first day, last day, relative) for a match of one of ``PATTERNS``."""
    g = m.groups()
    if kind == "dw_season":
        which = (g[0] or "").lower()
        season = next(x for x in (g[1], g[3], g[5]) if x).lower()
        year = next((int(x) for x in (g[2], g[4], g[6]) if x), None)
        start, end = season_span(season, which, year, today, hemisphere)
        return None if start > today else _clip(start, end, today)
    if kind == "dw_holiday":
        for year in (today.year, today.year - 1):
            day, before, after = _holiday(g[1], year)
            if day - timedelta(days=before) <= today:
                return _clip(day - timedelta(days=before), day + timedelta(days=after), today)
        return None
    if kind == "dw_month":
        which, month = g[0].lower(), P.MONTHS[g[1].lower().rstrip(".")]
        year = today.year if month <= today.month else today.year - 1
        if which == "last" and month == today.month:
            year -= 1
        start, end = _month_span(year, month)
        if which == "since":
            end = today
        elif which in ("early", "beginning of", "start of"):
            end = start + timedelta(days=10)
        elif which in ("late", "end of"):
            start = end - timedelta(days=10)
        elif which == "mid":
            start, end = start + timedelta(days=9), start + timedelta(days=20)
        return _clip(start, end, today)
    phrase = " ".join(g[0].lower().split())
    if phrase.endswith("weekend"):
        sat = today - timedelta(days=(today.weekday() - 5) % 7)
        return _clip(sat, sat + timedelta(days=1), today)
    if phrase in ("the other day",) or "days back" in phrase:
        return today - timedelta(days=7), today - timedelta(days=1), True
    if phrase in ("recently", "lately"):
        return today - timedelta(days=30), today, True
    if "weeks" in phrase:
        return today - timedelta(days=35), today - timedelta(days=7), True
    if "months" in phrase:
        return today - timedelta(days=120), today - timedelta(days=30), True
    return today - timedelta(days=180), today - timedelta(days=10), True  # "a while back": weeks to months
