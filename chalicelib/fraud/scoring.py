"""Risk scoring: one interface, a transparent rules engine, and the selective orchestrator.

Why rules first: every hold must be explainable to the customer in the ExplainHold intent, so the
reasons always come from rules over the customer's *own* history, each yielding a code of the
existing catalogue (:mod:`chalicelib.payments.fraud_codes`). A model (SageMaker / Fraud Detector, in
:mod:`chalicelib.fraud.adapters`) adds a better score, but it is paid and remote, so
:class:`SelectiveScorer` calls it only where the rules already see risk above ``floor`` (most
payments are everyday spend and never need it), only under the hourly spend ceiling of
:class:`~chalicelib.governance.cost.CostMeter`, and falls back to the rules' verdict on any failure.

Modes of the model (``off`` | ``shadow`` | ``on``): in ``shadow`` it scores and its score is
returned next to the rules' verdict for the decision log, but the rules' score is acted on.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, Protocol

from chalicelib.fraud.history import HistoryWindow
from chalicelib.payments.fraud_codes import REASON_CODES
from chalicelib.core.models import Transaction

RULES_VERSION = "fraud-rules-v1"
# Categories where a first card-not-present payment is a classic cash-out: gambling, quasi-cash /
# crypto, money transfer, wire, digital goods marketplaces and jewellery.
HIGH_RISK_MCCS = frozenset({"7995", "6051", "4829", "6211", "5944", "5816", "7801", "7802"})
HISTORY_DAYS = 90


@dataclass(frozen=True)
class ScoringContext:
    """The payment being judged and what we know of the customer: built once, read by every scorer."""

    txn: Transaction
    # The customer's payments, any order (the stream passes its indexed window of the last 90 days).
    history: tuple[Transaction, ...] | HistoryWindow
    cvv: str = "not_provided"
    device_new: bool | None = None
    event_id: str | None = None


@dataclass(frozen=True)
class RiskAssessment:
    score: float  # 0..1
    reason_codes: tuple[str, ...]
    scorer: str  # rules | sagemaker | frauddetector
    version: str
    details: dict[str, float] = field(default_factory=dict)
    fallback_reason: str | None = None  # why a model's verdict is not this one (timeout, budget ...)


class RiskScorer(Protocol):
    name: str

    def score(self, ctx: ScoringContext) -> RiskAssessment: ...


@dataclass(frozen=True)
class Rule:
    code: str
    weight: float


# Weights combine as independent evidence: risk = 1 - prod(1 - w). Two medium signals (amount and
# new country) pass the hold threshold of the action policy; one alone does not, except where a
# customer cannot have meant it (CVV mismatch).
RULES: dict[str, Rule] = {r.code: r for r in [
    Rule("UNUSUAL_AMOUNT", 0.45),
    Rule("FOREIGN_LOCATION", 0.40),
    Rule("NEW_MERCHANT_HIGH_RISK", 0.45),
    Rule("VELOCITY", 0.40),
    Rule("DEVICE_CHANGE", 0.20),
    Rule("CNP_MISMATCH", 0.70),
]}
assert set(RULES) <= set(REASON_CODES), "every rule yields a code of the catalogue"


class RulesEngine:
    """Deterministic, explainable, free: the default scorer and every model's fallback."""

    name = "rules"
    version = RULES_VERSION

    def __init__(self, *, min_history: int = 5, amount_factor: float = 3.0, amount_floor_minor: int = 20_000,
                 new_customer_limit_minor: int = 50_000, velocity_window: timedelta = timedelta(minutes=10),
                 velocity_count: int = 4):
        self.min_history = min_history
        self.amount_factor = amount_factor
        self.amount_floor_minor = amount_floor_minor
        self.new_customer_limit_minor = new_customer_limit_minor
        self.velocity_window = velocity_window
        self.velocity_count = velocity_count

    def features(self, ctx: ScoringContext) -> dict[str, float]:
        """The payment against the customer's earlier payments (it runs for every authorisation on the
        stream: an indexed window answers in a few bisections and C-level slices)."""
        txn = ctx.txn
        window = ctx.history if isinstance(ctx.history, HistoryWindow) else HistoryWindow.of(ctx.history)
        facts = window.before(txn, txn.occurred_at - self.velocity_window)
        spend = facts.spend
        usual = statistics.median(spend) if spend else 0.0
        return {
            "amount_minor": float(txn.amount_minor),
            "history_n": float(len(spend)),
            "usual_minor": float(usual),
            "max_minor": float(spend[-1] if spend else 0),
            "amount_ratio": txn.amount_minor / usual if usual else 0.0,
            "new_country": float(bool(facts.past) and not facts.seen_country),
            "new_mcc": float(not facts.seen_mcc),
            "high_risk_mcc": float(txn.mcc in HIGH_RISK_MCCS),
            "card_not_present": float(txn.channel == "ecommerce"),
            "velocity_n": float(facts.recent_on_card + 1),
        }

    def reasons(self, ctx: ScoringContext, f: dict[str, float]) -> list[str]:
        return self.reasons_from({**f, **self._context_facts(ctx)})

    @staticmethod
    def _context_facts(ctx: ScoringContext) -> dict[str, float]:
        return {"device_new": float(bool(ctx.device_new)), "cvv_mismatch": float(ctx.cvv == "mismatch")}

    def reasons_from(self, f: dict[str, float]) -> list[str]:
        """The reason codes from the facts alone (the features and the context facts), so a recorded
        decision can be re-derived from what was recorded (``audit replay``)."""
        out = []
        amount = f["amount_minor"]
        if f["history_n"] >= self.min_history:
            unusual = amount >= self.amount_floor_minor and amount > self.amount_factor * f["usual_minor"] and amount > f["max_minor"]
        else:
            unusual = amount > self.new_customer_limit_minor
        if unusual:
            out.append("UNUSUAL_AMOUNT")
        if f["new_country"]:
            out.append("FOREIGN_LOCATION")
        if f["high_risk_mcc"] and (f["new_mcc"] or f["card_not_present"]):
            out.append("NEW_MERCHANT_HIGH_RISK")
        if f["velocity_n"] >= self.velocity_count:
            out.append("VELOCITY")
        if f.get("device_new"):
            out.append("DEVICE_CHANGE")
        if f["card_not_present"] and f.get("cvv_mismatch"):
            out.append("CNP_MISMATCH")
        return out

    def assess(self, facts: dict[str, float]) -> RiskAssessment:
        """The verdict on recorded facts (``RiskAssessment.details`` of an earlier verdict)."""
        if facts["amount_minor"] <= 0:  # refunds and credits carry no spending risk
            return RiskAssessment(0.0, (), self.name, self.version)
        codes = self.reasons_from(facts)
        keep = 1.0
        for code in codes:
            keep *= 1.0 - RULES[code].weight
        return RiskAssessment(round(1.0 - keep, 4), tuple(codes), self.name, self.version, dict(facts))

    def score(self, ctx: ScoringContext) -> RiskAssessment:
        if ctx.txn.amount_minor <= 0:  # refunds and credits carry no spending risk
            return RiskAssessment(0.0, (), self.name, self.version)
        return self.assess({**self.features(ctx), **self._context_facts(ctx)})


ModelMode = Literal["off", "shadow", "on"]
CAPABILITY = "model_scoring"  # its name in the rollout policy


@dataclass(frozen=True)
class Verdict:
    """What the action service needs: the assessment to act on, and the shadow one to log beside it."""

    acted_on: RiskAssessment
    rules: RiskAssessment
    model: RiskAssessment | None  # None when the model was not called
    model_called: bool
    skipped: str | None  # below_floor | budget | mode_off | None
    mode: str | None = None  # the model's mode for THIS customer (the rollout narrows ``on`` to shadow)


class SelectiveScorer:
    """Rules always; the model only above ``floor`` and under budget; shadow or on."""

    def __init__(self, rules: RulesEngine, model: RiskScorer | None = None, *, mode: ModelMode = "shadow",
                 floor: float = 0.3, cost=None, api: str | None = None, metrics=None, rollout=None,
                 agree_at: float = 0.6):
        self.rules = rules
        self.model = model
        self.mode = mode
        self.floor = floor
        self.cost = cost  # chalicelib.governance.cost.CostMeter (prices must include ``api``)
        self.api = api or (f"{model.name}:score" if model else None)
        self.metrics = metrics
        # RolloutGate of ``model_scoring``: ``on`` acts only for the customers in the live
        # percentage; the rest score in shadow. ``agree_at`` (the action policy's hold score) is
        # where the model and the rules "disagree": one would hold, the other would not.
        self.rollout = rollout
        self.agree_at = agree_at
        self.calls = 0
        self.model_calls = 0
        # Skips are counted and sent once per batch (flush_metrics): one EMF line per card event for
        # "no model needed" was a log line per payment (CloudWatch ingestion) and ~5 % of the CPU.
        self._skipped: dict[str, int] = {}

    @property
    def share_saved(self) -> float:
        """Share of scored payments for which no model call was needed (or allowed)."""
        return 1.0 - self.model_calls / self.calls if self.calls else 0.0

    def _metric(self, name: str, **dims: str) -> None:
        if self.metrics is not None:
            self.metrics.put(name, 1, **dims)

    def flush_metrics(self) -> None:
        """``FraudModelSkipped`` per reason, counted since the last flush (the stream flushes per batch)."""
        skipped, self._skipped = self._skipped, {}
        if self.metrics is not None:
            for reason, n in sorted(skipped.items()):
                self.metrics.put("FraudModelSkipped", n, Reason=reason)

    def score(self, ctx: ScoringContext) -> Verdict:
        self.calls += 1
        rules = self.rules.score(ctx)
        mode = self.rollout.mode(CAPABILITY, ctx.txn.customer_id, self.mode) if self.rollout else self.mode
        skipped = None
        if self.model is None or mode == "off":
            skipped = "mode_off"
        elif rules.score < self.floor:
            skipped = "below_floor"
        elif self.cost is not None and not self.cost.try_spend(1, api=self.api, tier=self.model.name,
                                                                decision_id=ctx.event_id):
            skipped = "budget"
        if skipped:
            self._skipped[skipped] = self._skipped.get(skipped, 0) + 1
            return Verdict(rules, rules, None, False, skipped, mode)
        self.model_calls += 1
        model = self.model.score(ctx)
        if model.fallback_reason:
            self._metric("FraudModelFallback", Reason=model.fallback_reason)
        acted = model if mode == "on" and not model.fallback_reason else rules
        if acted is model:  # the model's number, the rules' explanation (the customer is told why)
            acted = RiskAssessment(model.score, rules.reason_codes, model.scorer, model.version, model.details)
        self._observe(ctx, rules, model)
        return Verdict(acted, rules, model, True, None, mode)

    def _observe(self, ctx: ScoringContext, rules: RiskAssessment, model: RiskAssessment) -> None:
        """Every model call, live or shadow, feeds the guards: disagreement with the rules and its cost
        (a fallback is no model verdict, so it cannot disagree)."""
        if self.rollout is None:
            return
        disagreed = not model.fallback_reason and (model.score >= self.agree_at) != (rules.score >= self.agree_at)
        cost = self.cost.cost_for(ctx.event_id) if self.cost is not None and ctx.event_id else 0.0
        self.rollout.observe(CAPABILITY, disagreed_with_rules=disagreed, cost_usd=float(cost))
