"""The handlers' door to the decision policy and the decision log.

Every automated action with consequences (filing a dispute, releasing a hold) goes through
``DecisionLog.decide``: the versioned policy evaluates the facts, the kill switch / shadow mode
applies, and the decision is appended to the hash-chained log with its inputs (no raw PII:
amounts, codes and ids only). The decision id is derived from what is being decided, so a
retried Lex turn finds its earlier decision instead of logging a second one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from chalicelib.core.ids import derive_decision_id as _decision_id
from chalicelib.core.models import DisputeReason, FraudDecision, Transaction


@dataclass(frozen=True)
class Verdict:
    outcome: str  # allow | escalate | deny
    acted: bool  # False in shadow mode or when the capability is switched off
    reasons: list[str] = field(default_factory=list)
    decision_id: str | None = None
    mode: str = "on"
    # When the recorded decision was taken: a retried or duplicated turn reads back an earlier one.
    decided_at: datetime | None = None


HANDOFF_WHY = {
    "customer_request": "you asked to speak to a person",
    "lockout": "we could not verify your identity in chat",
    "otp_undeliverable": "we could not send you a verification code",
    "repeated_fallback": "we could not understand the request after several tries",
    "no_match": "we could not find the payment you described",
    "fraud_review": "the payment needs a review by our fraud team",
    "policy_file_dispute": "the dispute needs a specialist's review under our policy",
    "policy_release_hold": "releasing the payment needs a specialist's review under our policy",
    "legal_threat": "the message mentions legal action, which a person must handle",
    "regulator_mention": "the message mentions a regulator or ombudsman, which a person must handle",
    "vulnerable_customer": "the message suggests you may need extra support from a person",
    "unsupported_language": "we can only answer in English in chat",
    "fraud_reported_by_customer": "you told us a payment we had stopped was not yours",
    "card_block_requested": "you asked us to block your card",
    "unclear_answer": "we could not be sure of your answer in chat",
}


class Governance:
    def __init__(self, log, store, clock: Callable[[], datetime], policy_store=None, controls=None, rollout=None):
        self.log = log
        self.store = store
        self.clock = clock
        self._policy_store = policy_store
        self.controls = controls
        self.rollout = rollout  # chalicelib.governance.rollout_gate.RolloutGate: live for THIS customer?

    def _controls(self, customer_id: str):
        """The kill switch as this customer sees it: out of the capability's live percentage, shadow."""
        return self.rollout.controls_for(self.controls, customer_id) if self.rollout else self.controls

    def _observe(self, capability: str, result, request) -> None:
        """Live or shadow, the decision feeds the capability's guards: would it have needed a person
        (the policy's own outcome, so shadow decisions count), and the classifier's confidence and
        label when one read the complaint (the drift guards)."""
        if self.rollout is None:
            return
        self.rollout.observe(capability, escalated=result.policy_outcome.outcome == "escalate",
                             cost_usd=float(result.decision.cost_usd or 0.0),
                             confidence=getattr(request, "classifier_confidence", None),
                             label=getattr(request, "category", None) if capability == "auto_file_dispute" else None)

    def current_policy(self):
        """The policy in force for this container (the root's policy store)."""
        return self._policy()

    def _policy(self):
        if self._policy_store is None:
            from chalicelib.governance.policy import PolicyStore

            self._policy_store = PolicyStore.from_env()
        return self._policy_store.current()

    def _verdict(self, result) -> Verdict:
        return Verdict(outcome=result.outcome, acted=result.acted, reasons=list(result.decision.reasons),
                       decision_id=result.decision.decision_id, mode=result.mode, decided_at=result.decision.at)

    def decide_dispute(self, turn, txn: Transaction, reason: DisputeReason, amount_minor: int, channel: str = "chat",
                       extra_facts: dict | None = None) -> Verdict:
        from chalicelib.governance.policy import DecisionRequest

        policy = self._policy()
        now = self.clock()
        window = policy.document.disputes.repeat.window_days
        recent = [c for c in self.store.cases.list_for_customer(txn.customer_id)
                  if c.created_at >= now - timedelta(days=window) and c.txn_id != txn.txn_id]
        customer = self.store.customers.get(txn.customer_id)
        posted = txn.posted_at or txn.occurred_at
        facts = dict(
            action="file_dispute",
            channel=channel,
            category=reason.value,
            amount_minor=amount_minor,
            currency=txn.currency,
            customer_dispute_count_window=len(recent),
            vulnerable=bool(customer and customer.vulnerable),
            txn_age_days=max(0, (now - posted).days),
            txn_status=txn.status.value,
            already_disputed=self.store.cases.find_by_transaction(txn.customer_id, txn.txn_id) is not None,
            step_up_verified=getattr(turn.identity, "method", None) == "step_up" if turn else False,
            language="en",
        )
        facts.update(extra_facts or {})
        request = DecisionRequest(**facts)
        result = self.log.decide(
            request,
            customer_id=txn.customer_id,
            capability="auto_file_dispute",
            controls=self._controls(txn.customer_id),
            policy=policy,
            subject={"txn_id": txn.txn_id},
            decision_id=_decision_id("file_dispute", txn.customer_id, txn.txn_id, reason.value, str(amount_minor)),
            tier="rules",
        )
        self._observe("auto_file_dispute", result, request)
        self._released_hold_disputed(txn, reason, already_disputed=facts["already_disputed"])
        return self._verdict(result)

    def _released_hold_disputed(self, txn: Transaction, reason: DisputeReason, *, already_disputed: bool) -> None:
        """A released hold disputed as not theirs feeds ``auto_release_hold`` (the gate's
        ``released_hold_disputed``, which the email follow-up calls too). A second filing on the same
        payment (a retried turn) is not counted again."""
        if self.rollout is not None:
            self.rollout.released_hold_disputed(self.store, txn, reason, already_disputed=already_disputed)

    def decide_release(self, turn, txn: Transaction, fd: FraudDecision) -> Verdict:
        from chalicelib.governance.policy import DecisionRequest

        req = DecisionRequest(
            action="release_hold",
            channel="chat",
            amount_minor=txn.amount_minor,
            currency=txn.currency,
            risk_score=fd.risk_score,
            reason_codes=tuple(fd.reason_codes),
            step_up_verified=True,
            language="en",
            txn_status=txn.status.value,
        )
        result = self.log.decide(
            req,
            customer_id=txn.customer_id,
            capability="auto_release_hold",
            controls=self._controls(txn.customer_id),
            policy=self._policy(),
            subject={"txn_id": txn.txn_id, "fraud_decision_id": fd.decision_id},
            models={"fraud_model": fd.model_version},
            decision_id=_decision_id("release_hold", txn.customer_id, fd.decision_id),
            tier="rules",
        )
        self._observe("auto_release_hold", result, req)
        return self._verdict(result)

    def record_handoff(self, turn, handoff) -> str:
        """Escalating to a human is itself a decision: log why, so containment and time-to-human
        can be audited and replayed alongside the automated ones."""
        decision = self.log.record(
            action="handoff",
            outcome="escalate",
            channel="chat",
            customer_id=handoff.customer_id,
            reasons=[handoff.reason],
            subject={"handoff_id": handoff.handoff_id, "session_id": handoff.session_id},
            decision_id=_decision_id("handoff", handoff.handoff_id),
            tier="rules",
            at=handoff.created_at,
            explanation=f"We passed the conversation to a member of our team because "
                        f"{HANDOFF_WHY.get(handoff.reason, 'it needed a person')}. Reference {handoff.handoff_id}.",
        )
        return decision.decision_id

