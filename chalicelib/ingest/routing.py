"""Where a triaged mail goes: its work queue, and whether a person must look first.

The decision (``route_message``: allow or escalate) is a function of the stored record and the
matched customer only, so a retry after a crash decides exactly what the first attempt would have.
The policy decides on the category, the classifier's confidence, the language and the legal,
regulator and vulnerability signals; this service adds its own reasons on top (high urgency, an
unsure classifier, a malformed message), each of which escalates.
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.core.models import Customer, TriageRecord, TriageStatus
from chalicelib.governance.policy import DecisionRequest

__all__ = ["ACTION", "HIGH_URGENCY", "CLASSIFIER_UNSURE", "MALFORMED_EMAIL", "EMAIL_TOO_LARGE", "TRIAGE_FAILED",
           "QUEUES", "DEFAULT_QUEUE", "queue_for", "unit_float", "route"]

ACTION = "route_message"

# Reason codes this service adds to the policy's (stable: stored in the decision log).
HIGH_URGENCY = "high_urgency"
CLASSIFIER_UNSURE = "classifier_unsure"
MALFORMED_EMAIL = "malformed_email"
EMAIL_TOO_LARGE = "email_too_large"
TRIAGE_FAILED = "triage_failed"

# Work queue per triage category; anything unknown goes to general support.
QUEUES: dict[str, str] = {
    "unauthorised": "fraud",
    "lost_or_stolen": "fraud",
    "declined_or_held": "holds_and_declines",
    "pending_charge": "holds_and_declines",
    "duplicate_charge": "disputes",
    "incorrect_amount": "disputes",
    "not_received": "disputes",
    "not_as_described": "disputes",
    "refund_not_processed": "disputes",
    "cancelled_recurring": "disputes",
    "atm_cash_problem": "disputes",
    "out_of_scope": "general_support",
}
DEFAULT_QUEUE = "general_support"


def queue_for(category: str | None) -> str:
    return QUEUES.get(str(category or "out_of_scope"), DEFAULT_QUEUE)


def unit_float(value: Any, default: float = 0.0) -> float:
    """A score from the triage result clamped to [0, 1]; ``default`` when it is not a number."""
    try:
        return min(1.0, max(0.0, float(value)))
    except (TypeError, ValueError):
        return default


def route(rec: TriageRecord, customer: Customer | None, policy_now: Callable[[], Any],
          escalate_urgency: float) -> tuple[DecisionRequest, list[str], str]:
    """(request, reasons, outcome) for a record. ``policy_now`` is asked only for mail that was
    triaged: a rejected or unparseable one is escalated without a policy."""
    t = rec.triage
    if rec.status in (TriageStatus.rejected_too_large, TriageStatus.failed_parse):
        request = DecisionRequest(action=ACTION, channel="email")
        return request, list(rec.reasons), "escalate"
    urgency_reasons = {str(r).lower() for r in t.get("urgency_reasons") or []}
    category = str(t.get("category") or "")[:64] or None
    language = str(t.get("language") or "")[:16] or None
    request = DecisionRequest(
        action=ACTION,
        channel="email",
        category=category,
        classifier_confidence=unit_float(t.get("category_confidence")),
        language=language,
        legal_threat=any("legal" in r for r in urgency_reasons),
        regulator_mention=any("regulator" in r or "ombudsman" in r for r in urgency_reasons),
        vulnerable=bool(customer and customer.vulnerable) or any("vulnerab" in r for r in urgency_reasons),
    )
    policy_outcome = policy_now().evaluate(request)
    extra = []
    if unit_float(t.get("urgency")) >= escalate_urgency:
        extra.append(HIGH_URGENCY)
    if t.get("intent") == "unsure" or t.get("category") in (None, "", "unsure"):
        extra.append(CLASSIFIER_UNSURE)
    if (t.get("email") or {}).get("malformed"):
        extra.append(MALFORMED_EMAIL)
    reasons = [r for r in policy_outcome.reasons if not (extra and r == "within_policy")] + extra
    outcome = "allow" if policy_outcome.outcome == "allow" and not extra else "escalate"
    return request, reasons, outcome
