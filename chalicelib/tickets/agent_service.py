"""What an agent does with a ticket: list, read, claim, note, resolve, each checked against who
they are and recorded with their id.

A resolution changes a customer outcome, so it goes into the decision log (actor ``agent:<id>``,
linked to the assistant's handoff decision); when the agent says the assistant got it wrong the
overturn is logged on its own, the ground truth for false-positive and false-negative rates.
The customer is told by email (chalicelib/tickets/notify.py), and a dispute outcome moves the case
(agent_cases.py), which DisputeStatus in chat then reports.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from chalicelib.core.pci import scrub_pans
from chalicelib.tickets.agent_auth import AgentPrincipal, BadRequest, Conflict, NotFoundError
from chalicelib.tickets.agent_cases import CaseDesk
from chalicelib.tickets.metrics import TicketMetrics
from chalicelib.tickets.model import IllegalTicketTransition, NotAssignee, Queue, Ticket, TicketStatus, add_note, claim, resolve
from chalicelib.tickets.store import StaleTicket

CASE_OUTCOMES = ("resolved_won", "resolved_lost", "withdrawn")
OUTCOMES = CASE_OUTCOMES + ("helped", "no_action")
NOTE_LIMIT, MESSAGE_LIMIT = 2000, 4000
# Which rolled-out capability an overturn speaks against: the automated action in the ticket's
# decisions, else the policy handoff reason the ticket was opened for.
OVERTURNED_CAPABILITY = {"file_dispute": "auto_file_dispute", "release_hold": "auto_release_hold",
                         "policy_file_dispute": "auto_file_dispute", "policy_release_hold": "auto_release_hold"}


def overturned_capability(ticket: Ticket) -> str | None:
    for d in ticket.context.get("decisions", []):
        if d.get("action") in OVERTURNED_CAPABILITY:
            return OVERTURNED_CAPABILITY[d["action"]]
    return OVERTURNED_CAPABILITY.get(ticket.reason)


def text_field(body: Any, name: str, limit: int, required: bool = True) -> str | None:
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"'{name}' must be a non-empty string")
    if len(value) > limit:
        raise BadRequest(f"'{name}' is longer than {limit} characters")
    return value.strip()


def choice(value: str | None, allowed, name: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise BadRequest(f"unknown {name} {value!r} (one of: {', '.join(allowed)})")
    return value


class AgentService:
    def __init__(self, desk, store, decision_log, mailer, clock: Callable, redact: Callable[[str], str] | None = None,
                 metrics=None, rollout=None):
        from chalicelib.governance.metrics import GovernanceMetrics

        self.rollout = rollout  # RolloutGate: an overturn is a guard observation of the capability

        self.metrics = TicketMetrics(metrics or GovernanceMetrics())
        self.desk, self.repo, self.store = desk, desk.repo, store
        self.log, self.mailer, self.clock, self.redact = decision_log, mailer, clock, redact
        self.cases = CaseDesk(store, desk.repo, decision_log, clock, self.clean)

    def clean(self, text: str) -> str:
        return scrub_pans(self.redact(text) if self.redact else text)[0]

    # ------------------------------------------------------------------ reading
    def list_tickets(self, who: AgentPrincipal, queue: str | None = None, status: str | None = None) -> list[Ticket]:
        q = choice(queue, [x.value for x in Queue], "queue")
        s = choice(status, [x.value for x in TicketStatus], "status")
        if q:
            who.require_queue(q)
        found = self.repo.list(Queue(q) if q else None, TicketStatus(s) if s else None)
        return [t for t in found if who.may_work(t.queue)]

    def ticket(self, who: AgentPrincipal, ticket_id: str) -> Ticket:
        found = self.repo.get(ticket_id)
        if found is None:
            raise NotFoundError(f"no ticket {ticket_id}")
        who.require_queue(found.queue)
        return found

    # ------------------------------------------------------------------ working
    def _save(self, changed: Ticket) -> Ticket:
        try:
            return self.repo.save(changed)
        except StaleTicket:
            raise Conflict(f"ticket {changed.ticket_id} changed meanwhile: reload it and try again") from None

    def claim(self, who: AgentPrincipal, ticket_id: str) -> Ticket:
        current = self.ticket(who, ticket_id)
        if current.status is TicketStatus.claimed and current.assignee == who.agent:
            return current  # a retried click
        try:
            claimed = self._save(claim(current, who.agent, self.clock()))
        except IllegalTicketTransition:
            raise Conflict(f"ticket {ticket_id} is {current.status.value}" +
                           (f" by {current.assignee}" if current.assignee else "")) from None
        self.metrics.claimed(claimed)
        self._backlog(claimed)
        return claimed

    def _backlog(self, ticket: Ticket) -> None:
        self.metrics.backlog(ticket.queue, self.repo.list(ticket.queue), self.clock())

    def note(self, who: AgentPrincipal, ticket_id: str, body: Any) -> Ticket:
        text = self.clean(text_field(body, "text", NOTE_LIMIT))
        current = self.ticket(who, ticket_id)
        if current.status is TicketStatus.resolved:
            raise Conflict(f"ticket {ticket_id} is resolved")
        return self._save(add_note(current, who.agent, text, self.clock()))

    def resolve(self, who: AgentPrincipal, ticket_id: str, body: Any) -> dict:
        outcome = text_field(body, "outcome", 40)
        choice(outcome, OUTCOMES, "outcome")
        message = self.clean(text_field(body, "message", MESSAGE_LIMIT))
        right = body.get("assistant_was_right")
        if right is not None and not isinstance(right, bool):
            raise BadRequest("'assistant_was_right' must be true or false")
        current = self.ticket(who, ticket_id)
        if current.status is TicketStatus.resolved:
            if current.outcome == outcome:
                return {"ticket": current, "case": None, "email": None}  # a retried request
            raise Conflict(f"ticket {ticket_id} is already resolved ({current.outcome})")
        if current.status is not TicketStatus.claimed:
            raise Conflict(f"claim ticket {ticket_id} before resolving it")
        if outcome in CASE_OUTCOMES and not current.case_id:
            raise BadRequest(f"outcome {outcome} needs a dispute case and ticket {ticket_id} has none")
        try:
            resolved = resolve(current, who.agent, outcome, self.clock(), supervisor=who.supervisor)
        except NotAssignee:
            raise Conflict(f"ticket {ticket_id} is claimed by {current.assignee}") from None
        case = None
        if outcome in CASE_OUTCOMES:
            case = self.cases.settle(who, current, outcome, message)
        resolved = self._save(add_note(resolved, who.agent, f"message to customer: {message}", self.clock()))
        self._record(who, resolved, outcome, right)
        self.metrics.resolved(resolved, overturned=right is False)
        self._backlog(resolved)
        return {"ticket": resolved, "case": case, "email": self._tell_customer(resolved, message, case)}

    def _record(self, who: AgentPrincipal, ticket: Ticket, outcome: str, right: bool | None) -> None:
        handoff_decision = next((d.get("decision_id") for d in ticket.context.get("decisions", []) if d.get("decision_id")), None)
        common = dict(actor=who.actor, channel="agent", customer_id=ticket.customer_ref, tier="human", acted=True,
                      subject={"ticket_id": ticket.ticket_id, **({"case_id": ticket.case_id} if ticket.case_id else {})})
        self.log.record(action="ticket_resolve", outcome=outcome, reasons=[ticket.reason], related_to=handoff_decision,
                        decision_id=f"resolve-{ticket.ticket_id}",
                        explanation=f"Agent {who.agent} resolved ticket {ticket.ticket_id}: {outcome}.", **common)
        if right is False:
            self.log.record(action="overturn", outcome="overturned", capability=ticket.reason, reasons=[outcome],
                            related_to=handoff_decision, decision_id=f"overturn-{ticket.ticket_id}",
                            explanation=f"Agent {who.agent} overturned the assistant's decision on {ticket.ticket_id}.",
                            **common)
            capability = overturned_capability(ticket)
            if self.rollout is not None and capability is not None:
                self.rollout.observe(capability, overturned=True)

    def _tell_customer(self, ticket: Ticket, message: str, case) -> str | None:
        customer = self.store.customers.get(ticket.customer_ref) if ticket.customer_ref else None
        if customer is None or not customer.email:
            return None  # an anonymous chat: the agent reaches them through the contact they left
        return self.mailer.resolution(ticket, customer.email, message, case["state"] if case else None)
