"""Where a triaged mail goes: its work queue, and whether a person must look first.

The decision (``route_message``: allow or escalate) is a function of the stored record and the
matched customer only, so a retry after a crash decides exactly what the first attempt would have.
The policy decides on the category, the classifier's confidence, the language and the legal,
regulator and vulnerability signals; this service adds its own reasons on top (high urgency, an
unsure classifier, a malformed message), each of which escalates.

Scope comes first (the long-text triage's verdict, nlp.longtext; machine or list mail by its
headers counts as not a complaint, chalicelib/ingest/mail_headers.py):

- **not a complaint** (spam, newsletters, auto-replies, bounces, read receipts, a bare "file
  attached"): no ticket, no acknowledgement. The record is kept with status ``skipped`` and a stable
  skip code (``not_a_complaint`` or ``automated_mail``) that the decision log and the metrics count
  and an auditor lists (``python -m chalicelib.ingest.skipped``). A known customer's own mail is
  never skipped (the verdict is least sure where a mistake costs most): a person reads it.
- **another product** (a mortgage, a credit report, a debt collector): not a dispute. It escalates
  with reason ``other_product`` to the team that redirects it (queue ``other_products``; the ticket
  names the product), never to the disputes or fraud queues.
- **ours**: the category's queue; a card-payment complaint whose category is unclear still goes to
  the disputes desk, where someone can name it.

Whatever the scope, a legal threat, a regulator or a vulnerable customer escalates with that reason.
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.core.models import Customer, TriageRecord, TriageStatus
from chalicelib.governance.policy import DecisionRequest

__all__ = ["ACTION", "HIGH_URGENCY", "CLASSIFIER_UNSURE", "MALFORMED_EMAIL", "EMAIL_TOO_LARGE", "TRIAGE_FAILED",
           "NOT_A_COMPLAINT", "AUTOMATED_MAIL", "OTHER_PRODUCT", "KNOWN_CUSTOMER", "SKIP_CODES", "PROTECTED",
           "SCOPE_OURS", "SCOPE_OTHER", "SCOPE_NONE", "QUEUES", "DEFAULT_QUEUE", "SKIPPED_QUEUE",
           "OTHER_PRODUCT_QUEUE", "queue_for", "scope_of", "status_for", "unit_float", "route"]

ACTION = "route_message"

# Reason codes this service adds to the policy's (stable: stored in the decision log).
HIGH_URGENCY = "high_urgency"
CLASSIFIER_UNSURE = "classifier_unsure"


def category_unsure(t: dict) -> bool:
    """Is the dispute category a guess? An explicit rule's category is not (a long letter's
    category often comes from a rule, and then no BANKING77 label comes with it: its ``intent``
    is ``unsure`` although "I was charged twice" decided it); otherwise an unsure intent is."""
    category = t.get("category")
    if category in (None, "", "unsure", "out_of_scope"):
        return True
    if "rule:" in str(t.get("category_source") or ""):
        return False
    return t.get("intent") == "unsure"
MALFORMED_EMAIL = "malformed_email"
EMAIL_TOO_LARGE = "email_too_large"
TRIAGE_FAILED = "triage_failed"
NOT_A_COMPLAINT = "not_a_complaint"  # skip code: the triage read no complaint
AUTOMATED_MAIL = "automated_mail"  # skip code: the headers say a robot or a list sent it
OTHER_PRODUCT = "other_product"  # about a product this desk does not handle: redirected
KNOWN_CUSTOMER = "known_customer"  # why a known customer's mail reaches a person whatever its scope
SKIP_CODES = (NOT_A_COMPLAINT, AUTOMATED_MAIL)
# The policy's markers that reach a person whatever the scope (urgency.PROTECTED in nlp).
PROTECTED = ("vulnerable_customer", "legal_threat", "regulator_mention")

# The long-text triage's scope verdicts, as stored (nlp.longtext).
SCOPE_OURS = "ours"
SCOPE_OTHER = "other_product"
SCOPE_NONE = "not_a_complaint"

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
SKIPPED_QUEUE = "not_a_complaint"  # no agent works it: the record is listed for audit only
OTHER_PRODUCT_QUEUE = "other_products"
UNCLEAR_DISPUTE_QUEUE = "disputes"


def queue_for(category: str | None, scope: str = SCOPE_OURS, *, skipped: bool = False) -> str:
    """The record's work queue. A skipped mail's is no agent's; a known customer's mail that reads as
    no complaint goes to general support; a card-payment complaint of unclear category to disputes."""
    if scope == SCOPE_NONE:
        return SKIPPED_QUEUE if skipped else DEFAULT_QUEUE
    if scope == SCOPE_OTHER:
        return OTHER_PRODUCT_QUEUE
    queue = QUEUES.get(str(category or "out_of_scope"), DEFAULT_QUEUE)
    return UNCLEAR_DISPUTE_QUEUE if queue == DEFAULT_QUEUE else queue


def scope_of(rec: TriageRecord) -> str:
    """The scope routing acts on: machine or list mail is not a complaint whatever its words; a
    record without a verdict (short text, an older record) is treated as ours, as before."""
    if rec.automated:
        return SCOPE_NONE
    scope = str(rec.triage.get("scope") or "")
    return scope if scope in (SCOPE_OTHER, SCOPE_NONE) else SCOPE_OURS


def status_for(reasons: list[str], outcome: str) -> TriageStatus:
    if outcome == "allow" and reasons and reasons[0] in SKIP_CODES:
        return TriageStatus.skipped
    return TriageStatus.escalated if outcome == "escalate" else TriageStatus.triaged


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
    scope = scope_of(rec)
    if scope != SCOPE_OURS:
        # Language, confidence and category do not matter for mail that is not a dispute: only the
        # protected markers do, and who wrote it.
        protected = [r for r in policy_outcome.reasons if r in PROTECTED]
        own = OTHER_PRODUCT if scope == SCOPE_OTHER else AUTOMATED_MAIL if rec.automated else NOT_A_COMPLAINT
        if scope == SCOPE_NONE and not protected and (customer is None or rec.automated):
            return request, [own], "allow"
        person = [KNOWN_CUSTOMER] if scope == SCOPE_NONE and not protected else []
        return request, protected + [own] + person, "escalate"
    extra = []
    if unit_float(t.get("urgency")) >= escalate_urgency:
        extra.append(HIGH_URGENCY)
    if category_unsure(t):
        extra.append(CLASSIFIER_UNSURE)
    if (t.get("email") or {}).get("malformed"):
        extra.append(MALFORMED_EMAIL)
    reasons = [r for r in policy_outcome.reasons if not (extra and r == "within_policy")] + extra
    outcome = "allow" if policy_outcome.outcome == "allow" and not extra else "escalate"
    return request, reasons, outcome
