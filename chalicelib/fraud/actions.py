"""Acting on a fraud verdict: hold, decline or review, by a versioned policy, told to the customer.

Order of effects, each idempotent so an at-least-once stream can repeat any of them:

1. the fraud-action policy (data: ``policies/fraud-actions-*.yaml``) turns the score and reason
   codes into ``approve | hold | decline | review``;
2. the decision is recorded in the hash-chained decision log under an id derived from the
   transaction (a replay finds the same record), with the rules' and the model's scores side by
   side (the shadow comparison) and the policy version;
3. the FraudDecision row (what ExplainHold reads) is written and the transaction marked (a decline
   becomes ``declined``; a hold or review stays ``pending`` until released);
4. the customer is told first, through a :class:`~chalicelib.outbox.Notifier` (masked: merchant,
   amount and last 4 only), and one structured incident line plus EMF metrics are emitted.

Approvals without a model call are not logged: they are most traffic and carry no decision.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.core.ids import derive_decision_id
from chalicelib.fraud.scoring import RULES_VERSION, Verdict
from chalicelib.payments.fraud_codes import REASON_CODES
from chalicelib.core.models import CardStatus, FraudAction, FraudDecision, Transaction, TxnStatus
from chalicelib.outbox import Notice, Notifier

log = logging.getLogger(__name__)
POLICY_DIR = Path(__file__).resolve().parent / "policies"
Action = Literal["approve", "hold", "decline", "review"]
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min_score: float | None = Field(default=None, ge=0, le=1)
    reason_codes: tuple[str, ...] = ()
    min_amount_minor: int = 0

    @field_validator("reason_codes")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(v) - set(REASON_CODES)
        if unknown:
            raise ValueError(f"unknown reason codes {sorted(unknown)}")
        return v


class FraudActionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(min_length=1, max_length=64)
    decline: _Rule
    review: _Rule
    hold: _Rule
    notify: tuple[Literal["hold", "decline", "review"], ...] = ("hold", "decline")

    @classmethod
    def load(cls, path: str | Path | None = None) -> "FraudActionPolicy":
        path = Path(path) if path else sorted(POLICY_DIR.glob("fraud-actions-*.yaml"))[-1]
        return cls.model_validate(yaml.safe_load(Path(path).read_text()))

    @classmethod
    def named(cls, version: str) -> "FraudActionPolicy | None":
        """The published policy with exactly this version (replay), or None."""
        for path in sorted(POLICY_DIR.glob("fraud-actions-*.yaml")):
            policy = cls.load(path)
            if policy.version == version:
                return policy
        return None

    def decide(self, score: float, codes: tuple[str, ...], amount_minor: int) -> Action:
        for name in ("decline", "review", "hold"):
            rule: _Rule = getattr(self, name)
            if set(codes) & set(rule.reason_codes):
                return name  # type: ignore[return-value]
            if rule.min_score is not None and score >= rule.min_score and amount_minor >= rule.min_amount_minor:
                return name  # type: ignore[return-value]
        return "approve"


FRAUD_INPUTS_KIND = "fraud_action"


def fraud_inputs(amount_minor: int, rules, acted) -> dict[str, Any]:
    """What the decision log keeps of a fraud decision so it can be re-run (``rules``/``acted``: RiskAssessment)."""
    # Rounded: a ratio like 80.5019666604233 is a run of digits a card-number scanner rightly flags,
    # and no rule reads past the fourth decimal.
    facts = {k: round(v, 4) for k, v in rules.details.items()}
    return {"kind": FRAUD_INPUTS_KIND, "amount_minor": amount_minor, "rules_facts": facts,
            "rules_score": rules.score, "rules_codes": list(rules.reason_codes),
            "acted_scorer": acted.scorer, "acted_score": acted.score}



class CardManagement(Protocol):
    """The bank's card-management API (freeze is reversible by the customer; block is final)."""

    def set_status(self, customer_id: str, card_id: str, status: CardStatus, reason: str) -> None: ...


class LocalCardManagement:
    """The local fake: the status lives on the store's Card row."""

    def __init__(self, store):
        self.store = store

    def set_status(self, customer_id, card_id, status, reason):
        card = next((c for c in self.store.cards.list_for_customer(customer_id) if c.card_id == card_id), None)
        if card is None:
            raise KeyError(f"no card {card_id} for {customer_id}")
        if card.status is not CardStatus.blocked:  # a blocked card is never reopened here
            self.store.cards.put(card.model_copy(update={"status": status}))
        log.info(json.dumps({"event": "card_status", "card_id": card_id, "status": status.value, "reason": reason}))


def money(amount_minor: int, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency)
    value = f"{abs(amount_minor) / 100:,.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {currency}"


def notice_text(action: str, txn: Transaction) -> str:
    what = money(txn.amount_minor, txn.currency)
    verb = {"hold": "held", "decline": "declined", "review": "are reviewing"}[action]
    ask = ("Was it you? Open the chat to confirm, or tell us it wasn't you."
           if action == "hold" else "If this wasn't you, open the chat and we'll help.")
    return f"We {verb} a {what} payment at {txn.merchant_name} on your card ending {txn.card_last4}. {ask}"


class FraudActionService:
    def __init__(self, store, decision_log, notifier: Notifier, *, policy: FraudActionPolicy | None = None,
                 metrics=None, model_mode: str = "shadow", cost=None):
        self.store = store
        self.decision_log = decision_log
        self.notifier = notifier
        self.policy = policy or FraudActionPolicy.load()
        self.metrics = metrics
        self.model_mode = model_mode
        self.cost = cost

    def act(self, txn: Transaction, verdict: Verdict, event_id: str | None = None) -> dict:
        acted = verdict.acted_on
        action = self.policy.decide(acted.score, acted.reason_codes, txn.amount_minor)
        result = {"action": action, "score": acted.score, "reason_codes": list(acted.reason_codes),
                  "scorer": acted.scorer, "model_called": verdict.model_called}
        if action == "approve" and not verdict.model_called:
            return result
        decision_id = derive_decision_id("fraud_action", txn.customer_id, txn.txn_id)
        scores = {"risk": acted.score, "rules_risk": verdict.rules.score}
        models = {"rules": RULES_VERSION, "fraud_action_policy": self.policy.version}
        if verdict.model is not None:
            scores["model_risk"] = verdict.model.score
            models[verdict.model.scorer] = verdict.model.version
        self.decision_log.record(
            action="fraud_action", outcome=action, actor="system", channel="system", customer_id=txn.customer_id,
            reasons=list(acted.reason_codes) + ([f"model_fallback:{verdict.model.fallback_reason}"]
                                                if verdict.model and verdict.model.fallback_reason else []),
            models=models, scores=scores, tier=acted.scorer, mode=verdict.mode or self.model_mode,
            acted=action != "approve", subject={"txn_id": txn.txn_id, "card_id": txn.card_id},
            decision_id=decision_id, cost_usd=self.cost.cost_for(event_id) if self.cost and event_id else 0.0,
            inputs=fraud_inputs(txn.amount_minor, verdict.rules, acted), policy_version=self.policy.version,
            explanation=f"Card payment scored {acted.score:.2f} by {acted.scorer} "
                        f"({', '.join(acted.reason_codes) or 'no rule hit'}): {action} under {self.policy.version}.",
        )
        result["decision_id"] = decision_id
        if action == "approve":
            return result
        self.store.fraud.put(FraudDecision(
            decision_id=decision_id, customer_id=txn.customer_id, txn_id=txn.txn_id, action=FraudAction(action),
            risk_score=acted.score, reason_codes=list(acted.reason_codes), model_version=acted.version,
            release_requirements=sorted({REASON_CODES[c].release for c in acted.reason_codes}),
            created_at=txn.occurred_at,
        ))
        if action == "decline" and txn.status is not TxnStatus.declined:
            self.store.transactions.put(txn.model_copy(update={"status": TxnStatus.declined}))
        if action in self.policy.notify:
            result["notice"] = self._notify(action, txn, decision_id)
        self._incident(action, txn, decision_id, acted.score, acted.reason_codes)
        return result

    def _notify(self, action: str, txn: Transaction, decision_id: str) -> str | None:
        customer = self.store.customers.get(txn.customer_id)
        if customer is None:
            return None
        return self.notifier.send(Notice(message_id=f"notice-{decision_id}", customer_id=txn.customer_id,
                                         channel="sms", to=customer.phone, text=notice_text(action, txn)))

    def _incident(self, action, txn, decision_id, score, codes) -> None:
        log.info(json.dumps({
            "event": "fraud_incident", "action": action, "decision_id": decision_id, "txn_id": txn.txn_id,
            "card_last4": txn.card_last4, "merchant": txn.merchant_name, "amount_minor": txn.amount_minor,
            "currency": txn.currency, "reason_codes": list(codes), "risk": round(score, 4),
        }, sort_keys=True))
        if self.metrics is not None:
            self.metrics.put({"hold": "FraudHolds", "decline": "FraudDeclines"}.get(action, "FraudReviews"), 1,
                             ReasonCode=codes[0] if codes else "none")
