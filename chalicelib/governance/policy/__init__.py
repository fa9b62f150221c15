"""Decision limits as data: a versioned YAML policy and the one evaluator every channel consults.

Why data and not code: what the assistant may decide alone is a business and compliance choice
that changes more often than the code, must be reviewable by non-engineers, and must be
reproducible years later. Every recorded decision carries the policy version it was made under,
and ``python -m chalicelib.audit replay`` re-evaluates it with exactly that version, so versions are
never edited in place, only added (``chalicelib/governance/policies/policy-<version>.yaml``).

The evaluator is pure: same request + same policy → same outcome, no clock, no I/O. Facts the
evaluator needs (transaction age, prior dispute count, step-up state ...) are gathered by the caller
and passed in :class:`DecisionRequest`, which is also what the decision log stores as the
decision's inputs.

Outcome precedence (most restrictive first), so that mixed signals resolve the same way everywhere:

1. protected escalation (legal threat, regulator mention, vulnerable customer): a human handles
   it even when the request would be refused, because a refusal by a bot is the wrong answer to
   those customers;
2. ineligibility denial (out of window, pending charge, already disputed ...): no human could
   grant it either;
3. escalation (over limit, repeat disputes, low confidence, unsupported language ...);
4. conditional denial (``step_up_required``: allowed once the customer verifies);
5. allow.

Where things are: ``reasons`` (codes, precedence classes, wording), ``document`` (the request, the
outcome and the policy schema), ``evaluator`` (``Policy``: loading and the pure evaluation),
``store`` (the active policy and every version on disk, for replay).
"""
from __future__ import annotations

from chalicelib.governance.policy.document import (
    DISPUTE_REASONS, Channel, DecisionRequest, Outcome, PolicyDocument, PolicyError, PolicyOutcome,
    UnknownPolicyVersion)
from chalicelib.governance.policy.evaluator import POLICY_FILENAME_RE, Policy
from chalicelib.governance.policy.reasons import REASON_TEXTS, R, ReasonText, reason_class, reason_text
from chalicelib.governance.policy.store import POLICY_DIR, PolicySettings, PolicyStore

__all__ = [
    "DISPUTE_REASONS", "POLICY_DIR", "POLICY_FILENAME_RE", "REASON_TEXTS", "Channel", "DecisionRequest", "Outcome",
    "Policy", "PolicyDocument", "PolicyError", "PolicyOutcome", "PolicySettings", "PolicyStore", "R", "ReasonText",
    "UnknownPolicyVersion", "reason_class", "reason_text",
]
