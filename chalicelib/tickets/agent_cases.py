"""Dispute cases as an agent sees and moves them: the case, its deadlines and evidence, the moves an
agent may make now, and each move checked by the lifecycle rulebook and logged with who made it.

A case is found through the ticket that carries it (its customer and queue); a case no ticket
names is looked up customer by customer, which is fine for the embedded store and the reason the
DynamoDB deployment should add a case-id index before it holds many customers.
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.cases.deadlines import deadlines_for_case
from chalicelib.cases.evidence import case_evidence_status
from chalicelib.cases.lifecycle import Actor, ActorKind, TransitionError, allowed_moves, check_transition
from chalicelib.core.models import CaseState, DisputeCase
from chalicelib.tickets.agent_auth import AgentPrincipal, BadRequest, Conflict, NotFoundError
from chalicelib.tickets.context_bundle import case_summary
from chalicelib.tickets.model import Queue

REASON_LIMIT = 1000


class CaseDesk:
    def __init__(self, store, repo, decision_log, clock: Callable, clean: Callable[[str], str]):
        self.store, self.repo, self.log, self.clock, self.clean = store, repo, decision_log, clock, clean

    def _locate(self, case_id: str) -> tuple[DisputeCase, Queue]:
        tickets = [t for t in self.repo.list() if t.case_id == case_id and t.customer_ref]
        for t in tickets:
            case = self.store.cases.get(t.customer_ref, case_id)
            if case is not None:
                return case, t.queue
        for customer_id in self.store.customers.list_ids():
            case = self.store.cases.get(customer_id, case_id)
            if case is not None:
                return case, Queue.disputes
        raise NotFoundError(f"no case {case_id}")

    def case(self, who: AgentPrincipal, case_id: str) -> DisputeCase:
        if not isinstance(case_id, str) or not case_id.strip() or len(case_id) > 64:
            raise NotFoundError(f"no case {case_id}")
        case, queue = self._locate(case_id)
        who.require_queue(queue)
        return case

    def view(self, case: DisputeCase) -> dict:
        """The case with its deadlines, evidence checklist and the moves an agent may make now."""
        txn = self.store.transactions.get(case.customer_id, case.txn_id)
        card = next((c for c in self.store.cards.list_for_customer(case.customer_id)
                     if txn is not None and c.last4 == txn.card_last4), None)
        deadlines = deadlines_for_case(case, txn, card) if txn is not None and card is not None else None
        out = case_summary(case, deadlines, case_evidence_status(case))
        out["allowed_moves"] = [s.value for s in allowed_moves(case, ActorKind.agent)]
        out["customer_ref"] = case.customer_id
        return out

    def _move(self, who: AgentPrincipal, case: DisputeCase, to: str, reason: str) -> DisputeCase:
        actor = Actor(who.agent, ActorKind.agent)
        try:
            target = check_transition(case, to, actor, reason)
        except TransitionError as exc:
            raise Conflict(str(exc)) from None
        # The store appends the move atomically with who made it and why; the decision log has it too.
        moved = self.store.cases.transition(case.customer_id, case.case_id, target, reason,
                                            actor=who.agent, actor_kind=ActorKind.agent.value)
        self.log.record(action="case_transition", outcome=target.value, actor=who.actor, channel="agent",
                        customer_id=case.customer_id, tier="human", acted=True, reasons=[case.state.value],
                        subject={"case_id": case.case_id}, explanation=f"Agent {who.agent} moved case {case.case_id} "
                        f"from {case.state.value} to {target.value}: {reason}")
        return moved

    def transition(self, who: AgentPrincipal, case_id: str, body: Any) -> dict:
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object with 'to' and 'reason'")
        to, reason = body.get("to"), body.get("reason")
        if to not in [s.value for s in CaseState]:
            raise BadRequest(f"'to' must be a case state (one of: {', '.join(s.value for s in CaseState)})")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_LIMIT:
            raise BadRequest(f"'reason' must be a non-empty string of at most {REASON_LIMIT} characters")
        case = self.case(who, case_id)
        return self.view(self._move(who, case, to, self.clean(reason.strip())))

    def settle(self, who: AgentPrincipal, ticket, outcome: str, message: str) -> dict:
        """Resolving a dispute ticket decides its case: straight to the outcome where the rulebook
        allows it, otherwise through under_review first (both moves recorded)."""
        case = self.case(who, ticket.case_id)
        if case.state.value == outcome:  # a retry after the case moved but the ticket save failed
            return self.view(case)
        why = f"ticket {ticket.ticket_id} resolved"
        if CaseState(outcome) not in allowed_moves(case, ActorKind.agent) and CaseState.under_review in allowed_moves(case, ActorKind.agent):
            case = self._move(who, case, CaseState.under_review.value, why)
        return self.view(self._move(who, case, outcome, why))
