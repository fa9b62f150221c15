"""Dates of birth written with numbers only: which are certain, and which need a question.

Why: "03/04/1988" is 3 April to most of the world and March 4 to Lex (en_US). Read the wrong way it
fails verification and costs one of three attempts with no word about the format. A numeric date
whose day and month could swap is asked about (two buttons) before any attempt is counted; one
whose first number is over 12 can only be day-first and is read so.
"""
from __future__ import annotations

import re
from datetime import date

from intents.dialog import Button, Card, Decision, Turn

_NUMERIC = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})\s*$")


def _year(raw: str, today: date) -> int:
    y = int(raw)
    if len(raw) == 4:
        return y
    return 2000 + y if 2000 + y < today.year else 1900 + y


def _date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def readings(raw: str | None, today: date) -> list[date]:
    """Every valid date a numeric date of birth can mean (one, two, or none for other forms)."""
    m = _NUMERIC.match(raw or "")
    if not m:
        return []
    a, b, y = int(m.group(1)), int(m.group(2)), _year(m.group(3), today)
    found = [d for d in (_date(y, b, a), _date(y, a, b)) if d is not None and d < today]  # day-first, month-first
    return list(dict.fromkeys(found))


def _label(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def ask_which_date(turn: Turn, last4: str, today: date) -> Decision | None:
    """The question "3 April or 4 March?" when the typed date can mean both; None otherwise."""
    raw = turn.original_slots.get("DateOfBirth") or turn.slot("DateOfBirth")
    options = readings(raw, today)
    if len(options) < 2:
        return None
    first, second = options
    return Decision(action="ElicitSlot", slot_to_elicit="DateOfBirth", session=dict(turn.session),
                    slots={**turn.slots, "CardLast4": last4, "DateOfBirth": None},
                    messages=[f"Just to be sure I read {raw.strip()} the right way: is that {_label(first)} or {_label(second)}?"],
                    card=Card(title="Your date of birth", buttons=(Button(_label(first), _label(first)),
                                                                   Button(_label(second), _label(second)))),
                    facts={"dob_ambiguous": True})


def certain_date(turn: Turn, today: date) -> str | None:
    """The ISO date when the numeric form can mean one date only (e.g. 25/12/1988); else None."""
    raw = turn.original_slots.get("DateOfBirth") or turn.slot("DateOfBirth")
    options = readings(raw, today)
    return options[0].isoformat() if len(options) == 1 else None
