"""Sortable key encodings shared by the SQLite and DynamoDB stores.

Both backends order and range-filter by strings, so a datetime must become a string whose
lexicographic order is its chronological order: UTC, fixed width, microseconds always present.
A naive datetime is taken to be UTC (the domain only ever creates aware UTC datetimes; this keeps
a stray naive value from sorting by its local wall-clock time).
"""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.core.models import CASE_TRANSITIONS, CaseEvent, CaseState, DisputeCase, utcnow
from chalicelib.storage.base import InvalidTransition

# Greater than any character used in ids, so "<prefix>#" + HIGH bounds every key with that prefix.
HIGH = "\uffff"


def time_key(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def with_initial_history(case: DisputeCase) -> DisputeCase:
    """The case as stored: a case created without history gets its opening event, so the
    timeline shown to customers and agents always starts at filing."""
    if case.history:
        return case.model_copy(deep=True)
    return case.model_copy(
        deep=True,
        update={"history": [CaseEvent(at=case.created_at, state=case.state, note="case created")]},
    )


def transitioned(case: DisputeCase, new_state: CaseState, note: str, now: datetime | None = None,
                 actor: str | None = None, actor_kind: str | None = None) -> DisputeCase:
    """The case after a legal move of the state machine; both stores share this so the rules
    (and the history entry they append: who, of which kind, why, from which state) cannot drift
    apart between backends."""
    if new_state not in CASE_TRANSITIONS[case.state]:
        raise InvalidTransition(f"{case.case_id}: {case.state.value} -> {new_state.value} is not allowed")
    if (actor is None) != (actor_kind is None):
        raise ValueError("a case move names both its actor and the actor's kind, or neither")
    now = now or utcnow()
    updated = case.model_copy(deep=True)
    updated.history.append(CaseEvent(at=now, state=new_state, note=note, from_state=case.state,
                                     actor=actor, actor_kind=actor_kind))
    updated.state = new_state
    updated.updated_at = now
    return updated
