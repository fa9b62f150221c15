"""Ticket metrics: time to a human, backlog and breaches per queue, overturns per capability."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from chalicelib.governance.metrics import GovernanceMetrics
from chalicelib.tickets.metrics import TicketMetrics
from chalicelib.tickets.model import Queue, claim
from chalicelib.tickets.service import new_ticket

NOW = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)


def emitted():
    lines: list[dict] = []
    return lines, TicketMetrics(GovernanceMetrics(sink=lambda line: lines.append(json.loads(line)), enabled=True))


def ticket(ref, created=NOW, queue="disputes"):
    return new_ticket(created_by="policy", source_ref=ref, reason="policy_file_dispute", queue=queue, priority="P2", now=created)


def test_given_a_claim_when_measured_then_time_to_human_is_the_seconds_since_the_escalation():
    lines, m = emitted()
    m.claimed(claim(ticket("a"), "dana", NOW + timedelta(minutes=12)))
    assert lines[0]["TimeToHumanSeconds"] == 720 and lines[0]["Queue"] == "disputes"


def test_given_a_queue_when_measured_then_backlog_and_sla_breaches_count_only_its_unresolved_tickets():
    lines, m = emitted()
    old, fresh, other = ticket("old", NOW - timedelta(days=3)), ticket("new"), ticket("x", NOW - timedelta(days=3), "fraud")
    m.backlog(Queue.disputes, [old, fresh, other], NOW)
    got = {k: v for line in lines for k, v in line.items() if k in ("Backlog", "SlaBreaches")}
    assert got == {"Backlog": 2, "SlaBreaches": 1}


def test_given_resolutions_when_measured_then_overturns_per_capability_give_a_rate():
    lines, m = emitted()
    m.resolved(ticket("a"), overturned=True)
    m.resolved(ticket("b"), overturned=False)
    overturns = [line["AgentOverturns"] for line in lines if "AgentOverturns" in line]
    assert overturns == [1, 0] and {line["Capability"] for line in lines} == {"policy_file_dispute"}
