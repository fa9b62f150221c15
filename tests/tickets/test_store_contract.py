"""The ticket store contract, on SQLite and DynamoDB alike; and the open/merge rules on top."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.tickets.model import Queue, TicketStatus, claim, resolve
from chalicelib.tickets.service import new_ticket, open_ticket
from chalicelib.tickets.store import AlreadyExists, NotFound, OpenTicketExists, StaleTicket
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


def test_the_open_lock_admits_one_ticket_per_customer_and_reason_until_it_resolves(tickets):
    """Given an open ticket of a customer for a reason, When a ticket of ANOTHER event for the same
    customer and reason is created directly, Then OpenTicketExists names the holder and nothing is
    stored; another reason, and an anonymous ticket, take no lock; When the holder resolves, Then the
    lock is released and the other event's ticket can be created (and holds the lock)."""
    first = tickets.create(_draft(ref="chat-1"))
    other = _draft(ref="email-7", source="email")
    assert tickets.lock_holder("demo-alice", "customer_request") == first.ticket_id
    with pytest.raises(OpenTicketExists) as refused:
        tickets.create(other)
    assert refused.value.holder == first.ticket_id and refused.value.code == "ticket.open_exists"
    assert tickets.get(other.ticket_id) is None and len(tickets.list()) == 1
    tickets.create(_draft(ref="chat-2", reason="legal_threat"))
    tickets.create(_draft(ref="anon-1", customer=None))
    tickets.create(_draft(ref="anon-2", customer=None))
    assert tickets.find_open("demo-alice", "customer_request").ticket_id == first.ticket_id
    claimed = tickets.save(claim(tickets.get(first.ticket_id), "agent-1", T0))
    assert tickets.lock_holder("demo-alice", "customer_request") == first.ticket_id  # claimed is still open
    tickets.save(resolve(claimed, "agent-1", "helped", T0))
    assert tickets.lock_holder("demo-alice", "customer_request") is None
    assert tickets.find_open("demo-alice", "customer_request") is None
    tickets.create(other)
    assert tickets.lock_holder("demo-alice", "customer_request") == other.ticket_id
    assert len(tickets.list()) == 5  # the lock items are not tickets


def test_eight_different_events_at_the_same_instant_open_one_ticket_and_seven_merges(tickets):
    """Given eight DIFFERENT escalation events of one customer for one reason, When eight threads
    open them at once, Then one ticket is created, the seven others are merged into it with one note
    each, and one ticket exists."""
    drafts = [_draft(ref=f"event-{i}", source="email" if i % 2 else "talk_to_agent") for i in range(8)]
    outcome = race(8, lambda i: open_ticket(tickets, drafts[i]))
    assert not outcome.raised, outcome.raised
    assert sorted(o.outcome for o in outcome.returned) == ["created"] + ["merged"] * 7
    assert len({o.ticket.ticket_id for o in outcome.returned}) == 1
    (only,) = tickets.list()
    assert sum(1 for n in only.notes if n.text.startswith("merged duplicate request")) == 7
