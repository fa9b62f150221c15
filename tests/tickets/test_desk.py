"""The ticket desk: routing, the bundle, one announcement per ticket, and what Connect receives."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from chalicelib.core.models import Handoff
from chalicelib.tickets.context_bundle import validate_bundle
from chalicelib.tickets.desk import TicketDesk
from chalicelib.tickets.notify import LocalTopicOutbox
from chalicelib.tickets.routing import parse_routing, route_for
from chalicelib.tickets.store_sqlite import SqliteTicketStore

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def desk(tmp_path, world):
    repo = SqliteTicketStore(tmp_path / "t.db")
    repo.create_schema()
    return TicketDesk(repo, world.store, LocalTopicOutbox(tmp_path / "outbox"), lambda: NOW)


@pytest.fixture
def world(tmp_path):
    from tests.world import World

    return World(tmp_path)


def handoff(reason="customer_request", customer="demo-alice", ref="HND-AAAAAA", summary="I need a person") -> Handoff:
    return Handoff(handoff_id=ref, customer_id=customer, session_id="s1", reason=reason, summary=summary, created_at=NOW)


@pytest.mark.parametrize("reason, queue, priority", [
    ("fraud_reported_by_customer", "fraud", "P1"), ("fraud_review", "fraud", "P2"),
    ("legal_threat", "complaints", "P2"), ("regulator_mention", "complaints", "P2"),
    ("policy_file_dispute", "disputes", "P2"), ("vulnerable_customer", "vulnerable_customers", "P1"),
    ("customer_request", "general", "P3"), ("something_new", "general", "P3"),
])
def test_given_a_reason_when_routed_then_it_lands_in_its_queue(reason, queue, priority):
    route = route_for(reason)
    assert (route.queue.value, route.priority.value) == (queue, priority)


def test_given_a_vulnerable_customer_when_routed_then_the_vulnerable_team_gets_it_at_p2_or_higher():
    assert route_for("customer_request", vulnerable=True).queue.value == "vulnerable_customers"
    assert route_for("customer_request", vulnerable=True).priority.value == "P2"
    assert route_for("fraud_reported_by_customer", vulnerable=True).priority.value == "P1"
    assert route_for("customer_request", has_transaction=True).queue.value == "disputes"


def test_given_a_routing_table_with_a_typo_when_loaded_then_it_fails_clearly():
    with pytest.raises(ValueError, match="fraud_review"):
        parse_routing({"default": {"queue": "general", "priority": "P3"}, "reasons": {"fraud_review": {"queue": "frud", "priority": "P1"}}})


def test_given_a_handoff_about_a_payment_when_escalated_then_the_bundle_is_valid_and_masked(desk, tmp_path):
    esc = desk.escalate(handoff(summary="card 4111 1111 1111 1111 cvv 123 was charged twice"), identity_level="token_verified",
                        txn_id="txn-alice-unrec")
    ticket = esc.ticket
    assert esc.outcome == "created" and ticket.queue.value in {"disputes", "general"}
    validate_bundle(ticket.context)
    dumped = json.dumps(ticket.context) + ticket.summary
    assert "4111 1111 1111 1111" not in dumped and "1111111111111111" not in dumped
    attrs = esc.connect_attributes()
    assert attrs["ticketRef"] == ticket.ticket_id and len(attrs["ticketSummary"]) <= 200
    assert "1111 1111" not in attrs["ticketSummary"]
    assert esc.wait.phrase


def test_given_the_same_escalation_delivered_three_times_then_one_ticket_and_one_notification(desk, tmp_path):
    outcomes = [desk.escalate(handoff()).outcome for _ in range(3)]
    assert outcomes == ["created", "replayed", "replayed"]
    assert len(desk.repo.list()) == 1
    assert len(list((tmp_path / "outbox").glob("*.sns.json"))) == 1


def test_given_eight_concurrent_deliveries_then_one_ticket_and_one_notification(desk, tmp_path):
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: desk.escalate(handoff()).outcome, range(8)))
    assert outcomes.count("created") == 1
    assert len(desk.repo.list()) == 1
    assert len(list((tmp_path / "outbox").glob("*.sns.json"))) == 1


def test_given_an_open_ticket_when_the_customer_escalates_again_elsewhere_then_it_is_merged(desk, tmp_path):
    first = desk.escalate(handoff(ref="HND-AAAAAA")).ticket
    second = desk.escalate(handoff(ref="HND-BBBBBB"))
    assert second.outcome == "merged" and second.ticket.ticket_id == first.ticket_id
    assert any("HND-BBBBBB" in n.text for n in second.ticket.notes)
    assert len(list((tmp_path / "outbox").glob("*.sns.json"))) == 1
