"""Ticket metrics as CloudWatch EMF, through the governance metrics writer (one format, one sink).

- ``TimeToHumanSeconds`` (Queue): from the escalation to an agent claiming the ticket;
- ``Backlog`` and ``SlaBreaches`` (Queue): tickets not resolved, and those past their SLA, emitted
  whenever an agent changes the queue (the dashboards plot the latest value);
- ``AgentResolutions`` and ``AgentOverturns`` (Capability): overturn rate per capability, the
  ground truth for the assistant's false-positive and false-negative rates.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from chalicelib.governance.metrics import GovernanceMetrics
from chalicelib.tickets.model import Queue, Ticket, TicketStatus


class TicketMetrics:
    def __init__(self, metrics: GovernanceMetrics):
        self.metrics = metrics

    def claimed(self, ticket: Ticket) -> None:
        if ticket.claimed_at is not None:
            seconds = max(0.0, (ticket.claimed_at - ticket.created_at).total_seconds())
            self.metrics.put("TimeToHumanSeconds", seconds, "Seconds", Queue=ticket.queue.value)

    def resolved(self, ticket: Ticket, overturned: bool) -> None:
        self.metrics.put("AgentResolutions", 1, Capability=ticket.reason)
        self.metrics.put("AgentOverturns", 1 if overturned else 0, Capability=ticket.reason)

    def backlog(self, queue: Queue, tickets: Iterable[Ticket], now: datetime) -> None:
        waiting = [t for t in tickets if t.queue is queue and t.status is not TicketStatus.resolved]
        self.metrics.put("Backlog", len(waiting), Queue=queue.value)
        self.metrics.put("SlaBreaches", sum(1 for t in waiting if t.sla_due < now), Queue=queue.value)
