"""The one clock of the house: aware UTC now, and the fixed-width text form stores sort by.

Why one: three copies of ``utcnow`` had started to drift (one naive, one aware); a store that
compares a naive time with an aware one fails at run time, not at import. Every default timestamp
and every injectable ``clock=`` parameter points here, so a test freezes time in one place.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (never naive: naive and aware times do not compare)."""
    return datetime.now(timezone.utc)


def sortable_utc(dt: datetime | str) -> str:
    """Fixed-width UTC text (always microseconds) so that string order is time order in indexes.

    A naive datetime is taken to be UTC; ISO text (``Z`` or an offset) is parsed first.
    """
    if isinstance(dt, str):
        try:
            dt = datetime.fromisoformat(dt.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {dt[:40]!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$")


def outbound_times(value: Any) -> Any:
    """``value`` (a model dump: dicts, lists, datetimes or ISO texts) with every time in the
    outbound form, for JSON an API returns or a file we write."""
    if isinstance(value, datetime):
        return outbound_time(value)
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:
            return outbound_time(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: outbound_times(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [outbound_times(v) for v in value]
    return value


def outbound_time(dt: datetime | None, *, minutes: bool = False) -> str | None:
    """The one text form of a time in anything that leaves us (emails, notices, SNS messages, ticket
    bundles, file names, logs): UTC, to the second (or minute), with separators: ``2026-03-02T09:05:07Z``.

    Why not ``isoformat()``: with microseconds a time is 20 digits behind separators, and about one
    in ten such runs passes Luhn, so the card-number guard masks it (the agent reads ``[CARD ...]``
    instead of a time) or a scanner downstream reports a card number we never had. Whole seconds
    keep every digit group short enough that no guard sees a card number in it.
    """
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%MZ" if minutes else "%Y-%m-%dT%H:%M:%SZ")
