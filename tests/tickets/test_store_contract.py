"""The ticket store contract, on SQLite and DynamoDB alike; and the open/merge rules on top."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.tickets.model import Queue, TicketStatus, claim, resolve
from chalicelib.tickets.service import new_ticket, open_ticket
from chalicelib.tickets.store import AlreadyExists, NotFound, StaleTicket
from tests.support.races import race

T0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


def _draft(ref="sess-1#3", reason="customer_request", customer="demo-alice", queue="disputes", prio="P3", at=T0,
           source="talk_to_agent", summary="wants a human about card 4111 1111 1111 1111"):
    return new_ticket(created_by=source, source_ref=ref, reason=reason, queue=queue, priority=prio,
                      customer_ref=customer, summary=summary, now=at)


def test_create_is_conditional_and_get_round_trips(tickets):
    """Given a new ticket, When it is created twice, Then the second create raises AlreadyExists and
    get returns the stored ticket, its summary without the card number."""
    t = _draft()
    tickets.create(t)
    with pytest.raises(AlreadyExists):
        tickets.create(t)
    got = tickets.get(t.ticket_id)
    assert got == t and "4111 1111" not in got.summary and "1111]" in got.summary
    assert tickets.get("TKT-NOTHERE") is None


def test_save_refuses_a_stale_copy(tickets):
    """Given a stored ticket read twice, When both copies are claimed and saved, Then the first wins
    and the second raises StaleTicket; saving an unknown ticket raises NotFound."""
    t = tickets.create(_draft())
    a, b = tickets.get(t.ticket_id), tickets.get(t.ticket_id)
    saved = tickets.save(claim(a, "agent-1", T0))
    assert saved.version == 1 and tickets.get(t.ticket_id).assignee == "agent-1"
    with pytest.raises(StaleTicket):
        tickets.save(claim(b, "agent-2", T0))
    with pytest.raises(NotFound):
        tickets.save(_draft(ref="other"))


def test_list_orders_by_priority_then_sla_and_filters(tickets):
    """Given tickets of several priorities and queues, When a queue is listed, Then P1 comes first,
    then the earlier SLA; status and queue filters apply."""
    p3 = tickets.create(_draft(ref="a", prio="P3"))
    p1 = tickets.create(_draft(ref="b", prio="P1", reason="legal_threat"))
    p3_earlier = tickets.create(_draft(ref="c", prio="P3", reason="x", at=T0 - timedelta(hours=5)))
    fraud = tickets.create(_draft(ref="d", queue="fraud", reason="y"))
    assert [t.ticket_id for t in tickets.list(Queue.disputes)] == [p1.ticket_id, p3_earlier.ticket_id, p3.ticket_id]
    assert [t.ticket_id for t in tickets.list(Queue.fraud)] == [fraud.ticket_id]
    tickets.save(claim(tickets.get(p1.ticket_id), "agent-1", T0))
    assert [t.ticket_id for t in tickets.list(Queue.disputes, TicketStatus.claimed)] == [p1.ticket_id]
    assert len(tickets.list()) == 4


def test_replay_is_one_ticket_and_a_duplicate_is_merged_with_a_note(tickets):
    """Given an escalation, When the same event is delivered three times, Then one ticket; When the
    same customer escalates for the same reason from email while it is open, Then the open ticket
    comes back with a merge note (once, even if that email is replayed); after resolution a new
    request opens a new ticket."""
    outcomes = [open_ticket(tickets, _draft()).outcome for _ in range(3)]
    assert outcomes == ["created", "replayed", "replayed"]
    email = _draft(source="email", ref="rec-9", summary="same complaint by email")
    merged = open_ticket(tickets, email)
    assert merged.outcome == "merged" and merged.ticket.ticket_id == _draft().ticket_id
    assert open_ticket(tickets, email).outcome == "merged"
    notes = [n.text for n in tickets.get(merged.ticket.ticket_id).notes]
    assert sum(email.ticket_id in n for n in notes) == 1
    assert open_ticket(tickets, _draft(reason="legal_threat", ref="z")).created  # another reason: its own
    assert open_ticket(tickets, _draft(customer=None, ref="anon")).created  # anonymous: never merged
    t = tickets.get(merged.ticket.ticket_id)
    tickets.save(resolve(claim(t, "agent-1", T0), "agent-1", "refunded", T0))
    assert open_ticket(tickets, _draft(ref="sess-2#1")).created


def test_eight_concurrent_deliveries_make_one_ticket(tickets):
    """Given one escalation event, When eight threads deliver it at once, Then exactly one creates."""
    draft = _draft()
    outcome = race(8, lambda _: open_ticket(tickets, draft).outcome)
    assert sorted(outcome.outcomes) == ["created"] + ["replayed"] * 7
    assert len(tickets.list()) == 1
