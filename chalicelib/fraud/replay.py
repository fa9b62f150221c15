"""Re-running a recorded fraud decision from its recorded facts, for ``audit replay``.

Why: a hold or decline changes what a customer can pay, so like every automated decision it must be
reproducible from the log alone. The stream records, with each ``fraud_action`` decision, the rules'
facts (the features of the payment and the customer's history, and the CVV and device flags: amounts
and counts, no identity), the rules' verdict, which scorer was acted on and its score, and the
fraud-action policy's version. Replay re-derives the rules' verdict from those facts, re-applies that
policy version, and says where either differs from the record: a tampered input, a changed rules
engine or an edited policy file all show. A model's score cannot be recomputed (the model is remote
and versioned apart), so it is taken as recorded, as an input.
"""
from __future__ import annotations

from typing import Any

from chalicelib.fraud.actions import FRAUD_INPUTS_KIND, FraudActionPolicy
from chalicelib.fraud.scoring import RulesEngine

KIND = FRAUD_INPUTS_KIND


class UnknownFraudPolicy(LookupError):
    """No fraud-action policy file has the recorded version."""


def replay_fraud_action(inputs: dict[str, Any], policy_version: str) -> tuple[str, list[str], str]:
    """(action, reason codes, note) re-derived from ``inputs`` under ``policy_version``; the note says
    what of the recorded verdict itself no longer follows from the facts (empty when all does).
    Raises :class:`UnknownFraudPolicy` or ``KeyError``/``ValueError`` on inputs that do not parse."""
    policy = FraudActionPolicy.named(policy_version)
    if policy is None:
        raise UnknownFraudPolicy(f"fraud-action policy version {policy_version!r} not found")
    rules = RulesEngine().assess({k: float(v) for k, v in inputs["rules_facts"].items()})
    notes = []
    if rules.score != inputs["rules_score"] or list(rules.reason_codes) != list(inputs["rules_codes"]):
        notes.append(f"rules verdict on the recorded facts is {rules.score} {list(rules.reason_codes)}, "
                     f"recorded {inputs['rules_score']} {inputs['rules_codes']}")
    score = rules.score if inputs["acted_scorer"] == "rules" else float(inputs["acted_score"])
    if inputs["acted_scorer"] == "rules" and rules.score != inputs["acted_score"]:
        notes.append(f"acted-on rules score recorded as {inputs['acted_score']}")
    action = policy.decide(score, rules.reason_codes, int(inputs["amount_minor"]))
    return action, list(rules.reason_codes), "; ".join(notes)
