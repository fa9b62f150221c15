"""Ticket ids, guarded status, SLA table and expected wait."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.tickets.model import IllegalTicketTransition, NotAssignee, TicketStatus, claim, release, resolve
from chalicelib.tickets.service import new_ticket
from chalicelib.tickets.sla import expected_wait, parse_sla_table, sla_due, tickets_ahead

T0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


def _t(**kw):
    args = dict(created_by="policy", source_ref="dec-1", reason="amount_over_limit", queue="disputes", priority="P2",
                customer_ref="demo-bob", now=T0)
    args.update(kw)
    return new_ticket(**args)


def test_ids_are_deterministic_and_differ_with_the_source():
    """Given the same inputs twice, When ids are derived, Then they are equal and shaped TKT-XXXXXXXX;
    a different source reference gives another id."""
    assert _t().ticket_id == _t().ticket_id
    assert _t().ticket_id.startswith("TKT-") and len(_t().ticket_id) == 12
    assert _t(source_ref="dec-2").ticket_id != _t().ticket_id


def test_status_is_guarded_and_only_the_assignee_resolves():
    """Given an open ticket, When it is resolved unclaimed, Then refused; claimed by agent-1, another
    agent can neither release nor resolve it (a supervisor can); resolved is final."""
    t = _t()
    with pytest.raises(IllegalTicketTransition) as err:
        resolve(t, "agent-1", "done")
    assert err.value.code == "ticket.transition.illegal"
    c = claim(t, "agent-1", T0)
    assert (c.status, c.assignee, c.claimed_at) == (TicketStatus.claimed, "agent-1", T0)
    with pytest.raises(IllegalTicketTransition):
        claim(c, "agent-2")
    with pytest.raises(NotAssignee):
        resolve(c, "agent-2", "done")
    with pytest.raises(NotAssignee):
        release(c, "agent-2")
    assert release(c, "sup-1", supervisor=True).status is TicketStatus.open
    with pytest.raises(IllegalTicketTransition):
        resolve(c, "agent-1", " ")
    r = resolve(c, "agent-1", "refund_issued", T0)
    assert (r.status, r.outcome, r.notes[-1].author) == (TicketStatus.resolved, "refund_issued", "agent-1")
    with pytest.raises(IllegalTicketTransition):
        release(r, "agent-1")


@pytest.mark.parametrize("queue,prio,hours", [("fraud", "P1", 1), ("disputes", "P2", 24), ("general", "P4", 168),
                                              ("vulnerable_customers", "P1", 1)])
def test_sla_due_comes_from_the_table(queue, prio, hours):
    """Given a queue and priority, When the SLA is computed, Then it is the table's hours after creation."""
    assert sla_due(queue, prio, T0) == T0 + timedelta(hours=hours)
    assert _t(queue=queue, priority=prio).sla_due == T0 + timedelta(hours=hours)


def test_a_table_missing_a_queue_or_loosening_backwards_is_refused():
    """Given SLA tables with a missing queue or P1 looser than P2, When parsed, Then ValueError."""
    row = {"sla_hours": {"P1": 1, "P2": 2, "P3": 3, "P4": 4}, "handle_minutes": 10, "agents": 1}
    full = {q: dict(row) for q in ("fraud", "disputes", "complaints", "vulnerable_customers", "general")}
    parse_sla_table({"queues": full})
    with pytest.raises(ValueError):
        parse_sla_table({"queues": {k: v for k, v in full.items() if k != "fraud"}})
    full["fraud"] = dict(row, sla_hours={"P1": 5, "P2": 2, "P3": 3, "P4": 4})
    with pytest.raises(ValueError):
        parse_sla_table({"queues": full})


def test_expected_wait_grows_with_backlog_and_never_exceeds_the_sla():
    """Given the disputes queue (4 agents, 25 minutes each), When nobody is ahead, Then about 30
    minutes; with 11 ahead, 75 minutes ("about 2 hours"); with 1000 ahead at P1, the 4-hour SLA is
    promised and flagged as breached."""
    assert expected_wait("disputes", "P3", 0).phrase == "about 30 minutes"
    w = expected_wait("disputes", "P3", 11)
    assert (w.minutes, w.phrase, w.within_sla) == (75, "about 2 hours", True)
    big = expected_wait("disputes", "P1", 1000)
    assert (big.minutes, big.within_sla) == (240, False)


def test_tickets_ahead_counts_open_same_or_higher_priority_earlier_tickets():
    """Given open P1 and P3 tickets and a claimed one, When a P2 arrives later, Then only the open P1
    is ahead of it."""
    p1, p3 = _t(source_ref="a", priority="P1"), _t(source_ref="b", priority="P3")
    claimed = claim(_t(source_ref="c", priority="P1"), "agent-1")
    assert tickets_ahead([p1, p3, claimed], "disputes", "P2", T0 + timedelta(minutes=1)) == 1
