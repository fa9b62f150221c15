"""The agent API: every route refuses a missing token (401), a queue the agent does not work (403),
a malformed body (400) and an unknown id (404); claim, note and resolve work and are recorded."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.core.models import Handoff

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)


def escalate(world, reason="customer_request", txn_id=None, ref="HND-API001", customer="demo-alice"):
    handoff = Handoff(handoff_id=ref, customer_id=customer, session_id="s-api", reason=reason,
                      summary="please call me about my Netflix charge", created_at=NOW)
    return world.services.tickets.escalate(handoff, identity_level="token_verified", txn_id=txn_id).ticket


@pytest.fixture
def dispute_ticket(world):
    return escalate(world, txn_id="txn-alice-netflix")


@pytest.fixture
def fraud_ticket(world):
    return escalate(world, reason="fraud_reported_by_customer", ref="HND-API002")


def routes(tid: str, cid: str):
    return [
        ("GET", "/agent/tickets", None),
        ("GET", f"/agent/tickets/{tid}", None),
        ("POST", f"/agent/tickets/{tid}/claim", None),
        ("POST", f"/agent/tickets/{tid}/notes", {"text": "called the customer"}),
        ("POST", f"/agent/tickets/{tid}/resolve", {"outcome": "helped", "message": "Sorted."}),
        ("GET", f"/agent/cases/{cid}", None),
        ("POST", f"/agent/cases/{cid}/transition", {"to": "awaiting_customer", "reason": "need the receipt"}),
    ]


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_given_no_or_an_unknown_token_when_any_route_is_called_then_401(agent_api, fraud_ticket, token):
    for method, path, body in routes(fraud_ticket.ticket_id, "DSP-ALICE1"):
        status, out = agent_api.call(method, path, token=token, body=body)
        assert status == 401, (method, path, out)


def test_given_an_agent_of_another_queue_when_any_route_is_called_then_403(agent_api, fraud_ticket):
    for method, path, body in routes(fraud_ticket.ticket_id, "DSP-ALICE1")[1:]:
        status, out = agent_api.call(method, path, token="tok-frank", body=body)  # DSP-ALICE1 is a disputes case
        if "/cases/" in path:
            assert status == 403, (path, out)
        else:
            assert agent_api.call(method, path, token="tok-dana", body=body)[0] == 403, path
    assert agent_api.call("GET", "/agent/tickets?queue=fraud", token="tok-dana")[0] == 403


def test_given_an_unknown_id_when_any_route_is_called_then_404(agent_api):
    for method, path, body in routes("TKT-NOPE2345", "DSP-NOPE23")[1:]:
        status, out = agent_api.call(method, path, body=body)
        assert status == 404, (path, out)
        assert out["error"] == "agent.not_found"


@pytest.mark.parametrize("path, raw", [
    ("/agent/tickets/{tid}/notes", "{not json"),
    ("/agent/tickets/{tid}/notes", '{"text": ""}'),
    ("/agent/tickets/{tid}/notes", '["text"]'),
    ("/agent/tickets/{tid}/resolve", '{"outcome": "maybe", "message": "x"}'),
    ("/agent/tickets/{tid}/resolve", '{"outcome": "helped"}'),
    ("/agent/tickets/{tid}/resolve", '{"outcome": "helped", "message": "x", "assistant_was_right": "no"}'),
    ("/agent/cases/DSP-ALICE1/transition", '{"to": "sideways", "reason": "x"}'),
    ("/agent/cases/DSP-ALICE1/transition", '{"to": "awaiting_customer"}'),
])
def test_given_a_malformed_body_when_posted_then_400_with_a_clear_message(agent_api, dispute_ticket, path, raw):
    status, out = agent_api.call("POST", path.format(tid=dispute_ticket.ticket_id), raw=raw)
    assert status == 400, out
    assert out["message"]


def test_given_a_bad_filter_when_listing_then_400(agent_api):
    status, out = agent_api.call("GET", "/agent/tickets?status=sleeping")
    assert status == 400 and "status" in out["message"]


def test_given_tickets_when_listed_then_only_the_agents_queues_in_priority_order(agent_api, dispute_ticket, fraud_ticket):
    _, mine = agent_api.call("GET", "/agent/tickets")
    assert [t["ticket_id"] for t in mine["tickets"]] == [dispute_ticket.ticket_id]
    _, everything = agent_api.call("GET", "/agent/tickets", token="tok-sue")
    assert [t["priority"] for t in everything["tickets"]] == ["P1", "P3"]


def test_given_a_dispute_ticket_when_claimed_noted_and_resolved_won_then_case_email_and_log_follow(
        agent_api, world, dispute_ticket):
    tid = dispute_ticket.ticket_id
    status, ticket = agent_api.call("GET", f"/agent/tickets/{tid}")
    assert status == 200 and ticket["context"]["case"]["case_id"] == "DSP-ALICE1"
    assert ticket["context"]["case"]["deadlines"]
    assert agent_api.call("POST", f"/agent/tickets/{tid}/resolve", body={"outcome": "helped", "message": "x"})[0] == 409
    assert agent_api.call("POST", f"/agent/tickets/{tid}/claim")[1]["assignee"] == "dana"
    assert agent_api.call("POST", f"/agent/tickets/{tid}/claim", token="tok-sue")[0] == 409  # taken
    agent_api.call("POST", f"/agent/tickets/{tid}/notes", body={"text": "card 4111 1111 1111 1111 mentioned"})
    status, out = agent_api.call("POST", f"/agent/tickets/{tid}/resolve", body={
        "outcome": "resolved_won", "message": "We refunded the $15.49 Netflix charge.", "assistant_was_right": False})
    assert status == 200, out
    assert out["ticket"]["status"] == "resolved" and out["case"]["state"] == "resolved_won" and out["customer_notified"]
    assert "4111 1111 1111 1111" not in str(out)
    assert world.store.cases.get("demo-alice", "DSP-ALICE1").state.value == "resolved_won"
    emails = list(world.settings.outbox_dir.glob("resolution-*.eml"))
    assert len(emails) == 1 and "refunded the $15.49" in emails[0].read_text()
    actions = [(d.action, d.actor) for d in world.services.governance.log.iter_decisions()]
    assert ("ticket_resolve", "agent:dana") in actions and ("overturn", "agent:dana") in actions
    assert ("case_transition", "agent:dana") in actions
    again = agent_api.call("POST", f"/agent/tickets/{tid}/resolve", body={"outcome": "resolved_won", "message": "again"})
    assert again[0] == 200 and len(list(world.settings.outbox_dir.glob("resolution-*.eml"))) == 1


def test_given_a_case_when_an_agent_moves_it_then_deadlines_and_moves_are_shown_and_illegal_moves_refused(agent_api):
    status, case = agent_api.call("GET", "/agent/cases/DSP-ALICE1")
    assert status == 200 and case["state"] == "under_review" and "awaiting_customer" in case["allowed_moves"]
    assert case["deadlines"]["regulation"] in {"reg_e", "reg_z"}
    status, moved = agent_api.call("POST", "/agent/cases/DSP-ALICE1/transition",
                                   body={"to": "awaiting_customer", "reason": "need the cancellation email"})
    assert status == 200 and moved["state"] == "awaiting_customer"
    last = moved["history"][-1]
    assert (last["actor"], last["actor_kind"], last["from_state"]) == ("dana", "agent", "under_review")
    assert last["note"] == "need the cancellation email"
    status, out = agent_api.call("POST", "/agent/cases/DSP-ALICE1/transition", body={"to": "resolved_won", "reason": "x"})
    assert status == 409 and "not a legal move" in out["message"]


def test_given_an_automated_dispute_when_an_agent_overturns_it_then_the_capability_guard_sees_it(agent_api, world):
    # Given a ticket the dispute-filing policy handed over, and auto_file_dispute rolled out
    ticket = escalate(world, reason="policy_file_dispute", txn_id="txn-alice-netflix", ref="HND-API009")
    rollout = world.services.governance.rollout.rollout
    rollout.store.set_stage("auto_file_dispute", 5, NOW, "test", 0)
    tid = ticket.ticket_id
    agent_api.call("POST", f"/agent/tickets/{tid}/claim")
    # When the agent resolves it saying the assistant was wrong
    status, _ = agent_api.call("POST", f"/agent/tickets/{tid}/resolve", body={
        "outcome": "helped", "message": "We sorted it by phone.", "assistant_was_right": False})
    # Then the capability's guard holds one overturned observation
    assert status == 200
    seen = rollout.store.observations("auto_file_dispute", NOW.replace(year=2000), NOW.replace(year=2100))
    assert [o.overturned for o in seen] == [True]
