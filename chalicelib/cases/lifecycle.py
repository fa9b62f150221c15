"""The dispute-case state machine, guarded: which moves exist, who may make each, and a record of
every move (who, of which kind, why, when).

The graph is ``chalicelib.core.models.CASE_TRANSITIONS`` (the stores enforce it too); who may make each
move is data in ``data/lifecycle.yaml``, checked against that graph when it is loaded, so a state
added to one and forgotten in the other fails at import rather than in front of a customer.

``transition`` is pure: it returns the updated case and leaves storing it to the caller, so chat,
email, the agent API and the network-outcome feed share one rulebook whatever store they use.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import lru_cache
from pathlib import Path

import yaml

from chalicelib.core.models import CASE_TRANSITIONS, CaseEvent, CaseState, DisputeCase, utcnow
from chalicelib.storage.base import InvalidTransition

_DATA = Path(__file__).with_name("data") / "lifecycle.yaml"


class ActorKind(str, Enum):
    customer = "customer"
    assistant = "assistant"
    agent = "agent"
    system = "system"


@dataclass(frozen=True)
class Actor:
    """Who makes a move: ``id`` is e.g. the customer id, ``"assistant"``, an agent id, a job name."""

    id: str
    kind: ActorKind

    def __post_init__(self) -> None:
        if not self.id or not self.id.strip():
            raise ValueError("an actor needs an id")
        object.__setattr__(self, "kind", ActorKind(self.kind))


class TransitionError(InvalidTransition):
    """A refused move. ``code`` is stable (API responses, tests, metrics match on it); the message
    is for people. A subclass of the stores' InvalidTransition so existing callers still catch it."""

    code = "case.transition.invalid"

    def __init__(self, case_id: str, from_state: CaseState, to_state: CaseState | str, detail: str):
        self.case_id = case_id
        self.from_state = from_state
        self.to_state = to_state
        to = to_state.value if isinstance(to_state, CaseState) else str(to_state)
        super().__init__(f"[{self.code}] case {case_id}: {from_state.value} -> {to}: {detail}")


class IllegalTransition(TransitionError):
    code = "case.transition.illegal"


class CaseClosed(IllegalTransition):
    code = "case.transition.closed"


class ActorNotAllowed(TransitionError):
    code = "case.transition.actor_not_allowed"


class ReasonRequired(TransitionError):
    code = "case.transition.reason_required"


@dataclass(frozen=True)
class Rulebook:
    version: int
    allowed: dict[CaseState, dict[CaseState, frozenset[ActorKind]]]

    def targets(self, state: CaseState) -> frozenset[CaseState]:
        return frozenset(self.allowed.get(state, {}))

    def actors(self, from_state: CaseState, to_state: CaseState) -> frozenset[ActorKind]:
        return self.allowed.get(from_state, {}).get(to_state, frozenset())


def parse_rulebook(doc: dict) -> Rulebook:
    """Build and check a rulebook: its edges must be exactly CASE_TRANSITIONS', every edge needs at
    least one actor kind, and every name must be a known state or actor kind."""
    allowed: dict[CaseState, dict[CaseState, frozenset[ActorKind]]] = {}
    for src, moves in (doc.get("transitions") or {}).items():
        allowed[CaseState(src)] = {
            CaseState(dst): frozenset(ActorKind(k) for k in kinds) for dst, kinds in (moves or {}).items()
        }
    for state in CaseState:
        declared = frozenset(allowed.get(state, {}))
        if declared != CASE_TRANSITIONS[state]:
            raise ValueError(
                f"lifecycle rulebook disagrees with CASE_TRANSITIONS for {state.value}: "
                f"{sorted(s.value for s in declared ^ CASE_TRANSITIONS[state])}"
            )
        for dst, kinds in allowed.get(state, {}).items():
            if not kinds:
                raise ValueError(f"lifecycle rulebook: nobody may move {state.value} -> {dst.value}")
    return Rulebook(version=int(doc.get("version", 0)), allowed=allowed)


@lru_cache(maxsize=1)
def rulebook() -> Rulebook:
    """The rulebook shipped with the code (read once per container)."""
    return parse_rulebook(yaml.safe_load(_DATA.read_text(encoding="utf-8")))


def allowed_moves(case: DisputeCase, actor_kind: ActorKind | str, book: Rulebook | None = None) -> list[CaseState]:
    """The states this kind of actor may move the case to now (the console shows these buttons)."""
    book = book or rulebook()
    kind = ActorKind(actor_kind)
    return sorted((s for s in book.targets(case.state) if kind in book.actors(case.state, s)), key=lambda s: s.value)


def check_transition(
    case: DisputeCase, to_state: CaseState | str, actor: Actor, reason: str, book: Rulebook | None = None
) -> CaseState:
    """Raise the typed error that refuses the move, or return the target state."""
    book = book or rulebook()
    try:
        target = CaseState(to_state)
    except ValueError:
        raise IllegalTransition(case.case_id, case.state, str(to_state), "unknown state") from None
    if not book.targets(case.state):
        raise CaseClosed(case.case_id, case.state, target, "the case is closed")
    if target not in book.targets(case.state):
        allowed = ", ".join(sorted(s.value for s in book.targets(case.state)))
        raise IllegalTransition(case.case_id, case.state, target, f"not a legal move (legal: {allowed})")
    if actor.kind not in book.actors(case.state, target):
        raise ActorNotAllowed(case.case_id, case.state, target, f"a {actor.kind.value} may not make this move")
    if not reason or not reason.strip():
        raise ReasonRequired(case.case_id, case.state, target, "every move needs a reason")
    return target


def transition(
    case: DisputeCase,
    to_state: CaseState | str,
    actor: Actor,
    reason: str,
    now: datetime | None = None,
    book: Rulebook | None = None,
) -> DisputeCase:
    """The case after a guarded move, with the move appended to its history. The input is not
    changed. ``reason`` must already be redacted (it is stored and shown to agents)."""
    target = check_transition(case, to_state, actor, reason, book)
    now = now or utcnow()
    updated = case.model_copy(deep=True)
    updated.history.append(
        CaseEvent(
            at=now,
            state=target,
            note=reason.strip(),
            from_state=case.state,
            actor=actor.id,
            actor_kind=actor.kind.value,
        )
    )
    updated.state = target
    updated.updated_at = now
    return updated
