"""Reason codes, their precedence class and their wording for customers, agents and regulators.

Why stable strings: reason codes are stored in the decision log forever and replayed years later,
so a code is never renamed, only added. The precedence classes are what make mixed signals
resolve the same way in every channel (see ``chalicelib.governance.policy``).
"""
from __future__ import annotations

from dataclasses import dataclass


class R:
    """Reason codes emitted by the evaluator (``missing_fact:<field>`` is built dynamically)."""

    LEGAL_THREAT = "legal_threat"
    REGULATOR_MENTION = "regulator_mention"
    VULNERABLE_CUSTOMER = "vulnerable_customer"

    OUT_OF_WINDOW = "out_of_window"
    PENDING_CHARGE = "pending_charge"
    ALREADY_DISPUTED = "already_disputed"
    TXN_STATUS_NOT_DISPUTABLE = "txn_status_not_disputable"

    ACTION_NOT_IN_POLICY = "action_not_in_policy"
    ACTION_DISABLED = "action_disabled"
    AMOUNT_OVER_LIMIT = "amount_over_limit"
    CURRENCY_NOT_IN_POLICY = "currency_not_in_policy"
    REASON_NOT_IN_POLICY = "reason_not_in_policy"
    REPEAT_DISPUTES = "repeat_disputes"
    LOW_CLASSIFIER_CONFIDENCE = "low_classifier_confidence"
    UNSUPPORTED_LANGUAGE = "unsupported_language"
    RISK_ABOVE_LIMIT = "risk_above_limit"
    HOLD_REASON_NOT_RELEASABLE = "hold_reason_not_releasable"
    CATEGORY_NOT_AUTO_REPLIABLE = "category_not_auto_repliable"
    MISSING_FACT = "missing_fact"

    STEP_UP_REQUIRED = "step_up_required"

    WITHIN_POLICY = "within_policy"


_PROTECTED = {R.LEGAL_THREAT, R.REGULATOR_MENTION, R.VULNERABLE_CUSTOMER}
_INELIGIBLE = {R.OUT_OF_WINDOW, R.PENDING_CHARGE, R.ALREADY_DISPUTED, R.TXN_STATUS_NOT_DISPUTABLE}
_CONDITIONAL_DENY = {R.STEP_UP_REQUIRED}


def reason_class(code: str) -> str:
    """Which precedence class a reason belongs to: protected | ineligible | escalate | conditional."""
    if code in _PROTECTED:
        return "protected"
    if code in _INELIGIBLE:
        return "ineligible"
    if code in _CONDITIONAL_DENY:
        return "conditional"
    if code == R.WITHIN_POLICY:
        return "allow"
    return "escalate"


@dataclass(frozen=True)
class ReasonText:
    """Wording for one reason code. ``customer`` never names scores, thresholds or rules."""

    customer: str
    regulator: str
    next_step: str


REASON_TEXTS: dict[str, ReasonText] = {
    R.LEGAL_THREAT: ReasonText(
        "Your message mentions legal action, so a specialist will handle it personally.",
        "Customer message flagged as containing a legal threat; policy requires human handling.",
        "A specialist will contact you; you do not need to do anything now.",
    ),
    R.REGULATOR_MENTION: ReasonText(
        "Your message mentions a regulator or ombudsman, so a specialist will handle it personally.",
        "Customer mentioned a regulator or ombudsman; policy requires human handling.",
        "A specialist will contact you. You keep the right to refer your complaint to the ombudsman.",
    ),
    R.VULNERABLE_CUSTOMER: ReasonText(
        "We want to make sure you get personal support, so a member of our team will look after this.",
        "Customer carries a vulnerability marker; policy requires human handling.",
        "A member of our team will contact you.",
    ),
    R.OUT_OF_WINDOW: ReasonText(
        "This payment is too old to dispute through us: card rules only allow disputes for a limited time after a payment.",
        "Transaction older than the dispute window of the policy.",
        "You can still contact the merchant directly, or ask to speak to an agent if you think this is wrong.",
    ),
    R.PENDING_CHARGE: ReasonText(
        "This payment is still pending, so it cannot be disputed yet. Pending payments often change or disappear when they settle.",
        "Transaction status is pending; disputes are accepted only for posted transactions.",
        "Wait until the payment has posted (usually a few days); if it is still wrong then, you can dispute it.",
    ),
    R.ALREADY_DISPUTED: ReasonText(
        "This payment is already being disputed, so we have not opened a second case.",
        "An existing dispute case covers this transaction.",
        "You can ask for the status of your existing dispute at any time.",
    ),
    R.TXN_STATUS_NOT_DISPUTABLE: ReasonText(
        "This payment did not go through (or was already reversed), so there is nothing to dispute.",
        "Transaction status is not disputable under the policy (only posted transactions are).",
        "If money has left your account anyway, ask to speak to an agent.",
    ),
    R.ACTION_NOT_IN_POLICY: ReasonText(
        "This needs a member of our team.",
        "The requested action is not covered by the policy; unknown actions always go to a human.",
        "A member of our team will pick this up.",
    ),
    R.ACTION_DISABLED: ReasonText(
        "This needs a member of our team.",
        "The policy disables automated handling of this action.",
        "A member of our team will pick this up.",
    ),
    R.AMOUNT_OVER_LIMIT: ReasonText(
        "Because of the amount involved, a member of our team will review this personally.",
        "Disputed amount exceeds the policy's automated filing limit for this reason and currency.",
        "A member of our team will review it, usually within one business day.",
    ),
    R.CURRENCY_NOT_IN_POLICY: ReasonText(
        "Payments in this currency are reviewed by a member of our team.",
        "The policy sets no automated limit for this currency.",
        "A member of our team will review it.",
    ),
    R.REASON_NOT_IN_POLICY: ReasonText(
        "This kind of problem is reviewed by a member of our team.",
        "The dispute reason has no automated limit in the policy.",
        "A member of our team will review it.",
    ),
    R.REPEAT_DISPUTES: ReasonText(
        "A member of our team will review this together with your other recent disputes.",
        "Customer's dispute count within the policy's repeat window exceeds the automated maximum.",
        "A member of our team will review it, usually within one business day.",
    ),
    R.LOW_CLASSIFIER_CONFIDENCE: ReasonText(
        "We want to be sure we understood you correctly, so a member of our team will read your message.",
        "Classifier confidence below the policy floor for this action.",
        "A member of our team will reply.",
    ),
    R.UNSUPPORTED_LANGUAGE: ReasonText(
        "A member of our team will reply to you.",
        "Message language is not among the policy's supported languages.",
        "A member of our team will reply.",
    ),
    R.RISK_ABOVE_LIMIT: ReasonText(
        "For your security, a member of our fraud team needs to review this payment.",
        "Fraud risk score at or above the policy's maximum for automated release.",
        "Our fraud team will review it; you may be contacted to confirm the payment.",
    ),
    R.HOLD_REASON_NOT_RELEASABLE: ReasonText(
        "This kind of hold can only be lifted by a member of our team.",
        "At least one hold reason code is not releasable by the assistant under the policy.",
        "A member of our team will review it.",
    ),
    R.CATEGORY_NOT_AUTO_REPLIABLE: ReasonText(
        "A member of our team will reply to your message.",
        "Message category is not in the policy's list of automatically answerable categories.",
        "A member of our team will reply.",
    ),
    R.MISSING_FACT: ReasonText(
        "We need a member of our team to look at this.",
        "A fact the policy needs was not available, so the decision defaulted to a human.",
        "A member of our team will pick this up.",
    ),
    R.STEP_UP_REQUIRED: ReasonText(
        "We need to confirm it is really you before we can do this.",
        "Policy requires step-up verification before this action.",
        "Complete the quick identity check and we can continue.",
    ),
    # Set by controls and breakers (chalicelib.governance.controls, chalicelib.governance.breaker), not by the evaluator.
    "control_off": ReasonText(
        "A member of our team will handle this.",
        "Automated handling of this capability was switched off by an operator (kill switch).",
        "A member of our team will pick this up.",
    ),
    "shadow_mode": ReasonText(
        "A member of our team will handle this.",
        "Capability in shadow mode: the automated decision was logged but not acted on; a human decides.",
        "A member of our team will pick this up.",
    ),
    "breaker_open": ReasonText(
        "A member of our team will handle this.",
        "An external model tier was unavailable (circuit breaker open); the deterministic fallback applied.",
        "",
    ),
    "budget_exhausted": ReasonText(
        "A member of our team will handle this.",
        "The hourly spending ceiling for an external model tier was reached; the deterministic fallback applied.",
        "",
    ),
    R.WITHIN_POLICY: ReasonText(
        "Your request met the conditions for us to handle it straight away.",
        "All policy conditions for automated handling were met.",
        "",
    ),
}


def reason_text(code: str) -> ReasonText:
    """Wording for a reason code; ``missing_fact:<field>`` shares one entry."""
    base = code.split(":", 1)[0]
    return REASON_TEXTS.get(
        base,
        ReasonText("A member of our team will look at this.", f"Reason code {code!r}.", "A member of our team will pick this up."),
    )

