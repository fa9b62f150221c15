"""The guarded dispute-case state machine."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.cases.lifecycle import (
    Actor,
    ActorKind,
    ActorNotAllowed,
    CaseClosed,
    IllegalTransition,
    ReasonRequired,
    allowed_moves,
    parse_rulebook,
    rulebook,
    transition,
)
from chalicelib.core.models import CASE_TRANSITIONS, CaseState, DisputeCase, DisputeReason
from chalicelib.storage.base import InvalidTransition

T0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
AGENT = Actor("agent-7", ActorKind.agent)
CUSTOMER = Actor("demo-alice", "customer")
ASSISTANT = Actor("assistant", ActorKind.assistant)


def _case(state=CaseState.opened) -> DisputeCase:
    return DisputeCase(case_id="DSP-TEST01", customer_id="demo-alice", txn_id="t1", reason=DisputeReason.not_received,
                       disputed_amount_minor=4200, state=state, created_at=T0, updated_at=T0)


def test_a_case_worked_to_resolution_records_who_why_and_when():
    """Given an opened case, When the assistant asks the customer, the customer answers, the system
    gives provisional credit and an agent resolves it, Then each move is in the history with actor,
    kind, previous state, reason and time, and the original case object is unchanged."""
    c0 = _case()
    c1 = transition(c0, "awaiting_customer", ASSISTANT, "need expected delivery date", now=T0)
    c2 = transition(c1, CaseState.under_review, CUSTOMER, "customer sent tracking", now=T0)
    c3 = transition(c2, CaseState.provisional_credit, Actor("reg-e-clock", "system"), "10 business days", now=T0)
    c4 = transition(c3, CaseState.resolved_won, AGENT, "merchant accepted chargeback", now=T0)
    assert c0.state is CaseState.opened and c0.history == []
    assert c4.state is CaseState.resolved_won and not c4.is_open
    last = c4.history[-1]
    assert (last.from_state, last.state, last.actor, last.actor_kind, last.note, last.at) == (
        CaseState.provisional_credit, CaseState.resolved_won, "agent-7", "agent", "merchant accepted chargeback", T0)
    assert [e.actor_kind for e in c4.history] == ["assistant", "customer", "system", "agent"]


def test_an_illegal_jump_is_refused_with_a_stable_code():
    """Given an opened case, When an agent jumps straight to resolved_won, Then IllegalTransition
    (also an InvalidTransition for the stores' callers) with code case.transition.illegal."""
    with pytest.raises(IllegalTransition) as err:
        transition(_case(), CaseState.resolved_won, AGENT, "looks fine")
    assert err.value.code == "case.transition.illegal"
    assert isinstance(err.value, InvalidTransition)
    assert "opened -> resolved_won" in str(err.value)


@pytest.mark.parametrize("state", [CaseState.resolved_won, CaseState.resolved_lost, CaseState.withdrawn])
def test_a_closed_case_cannot_move(state):
    """Given a closed case, When anyone moves it, Then CaseClosed (code case.transition.closed)."""
    with pytest.raises(CaseClosed) as err:
        transition(_case(state), CaseState.under_review, AGENT, "reopen")
    assert err.value.code == "case.transition.closed"


def test_the_assistant_never_decides_an_outcome_and_a_customer_only_withdraws_or_answers():
    """Given a case under review, When the assistant or the customer tries to resolve it, Then
    ActorNotAllowed; the customer may withdraw."""
    case = _case(CaseState.under_review)
    for actor in (ASSISTANT, CUSTOMER):
        with pytest.raises(ActorNotAllowed) as err:
            transition(case, CaseState.resolved_won, actor, "I say so")
        assert err.value.code == "case.transition.actor_not_allowed"
    assert transition(case, "withdrawn", CUSTOMER, "merchant refunded me").state is CaseState.withdrawn
    assert allowed_moves(case, "customer") == [CaseState.withdrawn]


def test_every_move_needs_a_reason_and_every_actor_an_id():
    """Given an opened case, When a move has a blank reason or an actor no id, Then both are refused."""
    with pytest.raises(ReasonRequired):
        transition(_case(), CaseState.under_review, AGENT, "  ")
    with pytest.raises(ValueError):
        Actor("", ActorKind.agent)
    with pytest.raises(IllegalTransition):
        transition(_case(), "escalated", AGENT, "no such state")


def test_rulebook_names_exactly_the_state_graph_and_refuses_a_drifted_one():
    """Given the shipped rulebook, When compared with CASE_TRANSITIONS, Then they have the same edges;
    and a rulebook missing an edge, or giving one to nobody, is refused at load."""
    book = rulebook()
    for state, targets in CASE_TRANSITIONS.items():
        assert book.targets(state) == targets
    with pytest.raises(ValueError):
        parse_rulebook({"transitions": {"opened": {"withdrawn": ["customer"]}}})
    doc = {"transitions": {s.value: {t.value: ["agent"] for t in ts} for s, ts in CASE_TRANSITIONS.items()}}
    assert parse_rulebook(doc).actors(CaseState.opened, CaseState.withdrawn) == {ActorKind.agent}
    doc["transitions"]["opened"]["withdrawn"] = []
    with pytest.raises(ValueError):
        parse_rulebook(doc)
