"""The catalogue of hold / decline reason codes the assistant can explain.

Internal fields (``internal``) describe the rule for staff and are never shown to customers; the
customer-facing wording lives in Jinja2 templates keyed by code (intents/templates/holds/).
``release`` says what can release a hold carrying this code; ``step_up_releasable`` says whether
the assistant may release it itself after step-up verification (the policy has the final word).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReasonCode:
    code: str
    kind: str  # "fraud" (risk rule) or "account" (limits, funds, customer settings)
    internal: str
    release: str  # machine-readable release requirement
    step_up_releasable: bool


REASON_CODES: dict[str, ReasonCode] = {
    rc.code: rc
    for rc in [
        ReasonCode("UNUSUAL_AMOUNT", "fraud", "amount far above the customer's usual spend", "step_up_verification", True),
        ReasonCode("NEW_MERCHANT_HIGH_RISK", "fraud", "first payment to a merchant in a high-risk category", "step_up_verification", True),
        ReasonCode("FOREIGN_LOCATION", "fraud", "card used in a country the customer has not used it in", "step_up_verification", True),
        ReasonCode("VELOCITY", "fraud", "many payments in a short time", "step_up_verification", True),
        ReasonCode("DEVICE_CHANGE", "fraud", "payment from a new device or wallet token", "step_up_verification", True),
        ReasonCode("CNP_MISMATCH", "fraud", "card-not-present details (CVV / billing address) did not match", "retry_with_correct_details", False),
        ReasonCode("COMPROMISE_SUSPECTED", "fraud", "card appears in a known compromise; card must be replaced", "card_replacement", False),
        ReasonCode("SANCTIONS_SCREENING", "fraud", "payment matched a screening list; compliance review", "compliance_review", False),
        ReasonCode("INSUFFICIENT_FUNDS", "account", "available balance below the amount", "add_funds", False),
        ReasonCode("CARD_FROZEN", "account", "customer froze the card", "unfreeze_card", False),
        ReasonCode("LIMIT_EXCEEDED", "account", "daily spending limit reached", "wait_or_raise_limit", False),
        ReasonCode("MCC_BLOCKED", "account", "customer-set block on this merchant category", "remove_category_block", False),
    ]
}
