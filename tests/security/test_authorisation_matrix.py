"""The authorisation matrix: who may see or change what, on the agent API and in the chat.

Why a matrix: a rule checked route by route drifts (one route forgets the queue check); listing
every (caller, object, route) cell against one expected-verdict rule catches the cell that does.
Agent API: an agent works only the queues they are given, a supervisor every queue. Chat: a
customer learns nothing about another customer's case, and an unverified caller learns nothing
about anyone's: the answer is word for word the one for a case that does not exist (no oracle).
"""
from __future__ import annotations

import pytest

from tests.agent.conftest import TOKENS, agent_api, world  # noqa: F401  (fixtures)
from tests.agent.test_agent_api import escalate, routes
from tests.lex_events import make_lex_event

CASE_QUEUE = {"DSP-ALICE1": "disputes"}  # the demo case the routes act on
TICKET_QUEUE = {"dispute": "disputes", "fraud": "fraud"}


def may(token: str, queue: str) -> bool:
    who = TOKENS[token]
    return who["role"] == "supervisor" or queue in who["queues"]


@pytest.mark.parametrize("kind", sorted(TICKET_QUEUE))
@pytest.mark.parametrize("token", sorted(TOKENS))
def test_every_agent_route_follows_the_queue_rule(agent_api, world, token, kind):  # noqa: F811
    """Given a ticket of one queue and an agent or supervisor / When the agent calls every route on
    it and on a disputes case / Then a route answers 403 exactly when the caller does not work the
    queue, and otherwise never 401, 403 or 404."""
    ticket = escalate(world, txn_id="txn-alice-netflix") if kind == "dispute" else \
        escalate(world, reason="fraud_reported_by_customer", ref="HND-MTX002")
    for method, path, body in routes(ticket.ticket_id, "DSP-ALICE1")[1:]:
        queue = CASE_QUEUE["DSP-ALICE1"] if "/cases/" in path else TICKET_QUEUE[kind]
        status, out = agent_api.call(method, path, token=token, body=body)
        if may(token, queue):
            assert status not in (401, 403, 404), (token, method, path, status, out)
        else:
            assert status == 403, (token, method, path, status, out)


@pytest.mark.parametrize("token", sorted(TOKENS))
def test_a_ticket_list_shows_only_the_queues_worked(agent_api, world, token):  # noqa: F811
    """Given a disputes and a fraud ticket / When each agent lists tickets / Then each sees exactly
    the tickets of the queues they work (a supervisor: all)."""
    escalate(world, txn_id="txn-alice-netflix")
    escalate(world, reason="fraud_reported_by_customer", ref="HND-MTX003")
    status, out = agent_api.call("GET", "/agent/tickets", token=token)
    assert status == 200
    items = out.get("tickets", out.get("items", out)) if isinstance(out, dict) else out
    assert {t["queue"] for t in items} <= {q for q in TICKET_QUEUE.values() if may(token, q)}


def _status_reply(world, case_id: str, customer: str | None, session: str) -> list[str]:
    ev = make_lex_event(intent="DisputeStatus", slots={"CaseId": case_id}, transcript=f"status of {case_id}",
                        session_id=session, request_attributes=world.token(customer) if customer else {})
    # The reference the caller typed is said back: it is theirs, not an answer about the case.
    return [m.get("content", "").replace(case_id, "<ref>") for m in world.hook(ev).get("messages", [])]


@pytest.mark.parametrize("caller", [None, "demo-bob"])
def test_another_customers_case_reads_like_a_case_that_does_not_exist(world, caller):  # noqa: F811
    """Given Alice's case DSP-ALICE1 / When an unverified caller or Bob (signed in) asks its status /
    Then the reply is word for word the reply for an unknown case id; Alice herself gets another."""
    foreign = _status_reply(world, "DSP-ALICE1", caller, f"mx-{caller}-1")
    unknown = _status_reply(world, "DSP-NOPE23", caller, f"mx-{caller}-2")
    assert foreign == unknown
    assert _status_reply(world, "DSP-ALICE1", "demo-alice", "mx-alice") != foreign
