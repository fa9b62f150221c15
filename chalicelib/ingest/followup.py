"""After an email's routing decision: the case it opens or joins, the ticket a person works, and the
customer's acknowledgment.

Why a step of its own: chat opens a case under the decision policy and escalates through the ticket
desk; a forwarded complaint must end the same way (one case per transaction across channels, the
same routed, merged ticket), or the email channel escalates into a void. It runs once per triage
record under the idempotency guard (``email_followup#<record>``), so a replayed or concurrent SQS
delivery opens nothing twice and sends nothing twice; the case, ticket and email ids are derived
from the record as a second line of defence.

The desk is handed in by the composition root (chatbot/bootstrap.py): chalicelib builds no intents.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel

from chalicelib.cases.customer_deadlines import next_customer_deadline
from chalicelib.cases.disputes import eligibility, open_case
from chalicelib.core.clock import outbound_time
from chalicelib.core.ids import derive_decision_id
from chalicelib.core.models import DisputeReason, Handoff, TriageRecord, TriageStatus
from chalicelib.core.pci import scrub_pans
from chalicelib.ingest.routing import NOT_A_COMPLAINT, OTHER_PRODUCT, SCOPE_OURS
from chalicelib.ingest.unmatched import (AUTO_REPLY_HEADERS, parse_headers, product_words, redirect_notice, reply_refusal,
                                         sender_address, unmatched_notice)
from chalicelib.outbox import Notice

log = logging.getLogger(__name__)

# Triage categories that state a billing error, as the dispute reason a case is filed under.
BILLING_ERRORS: dict[str, DisputeReason] = {
    "unauthorised": DisputeReason.unauthorised,
    "duplicate_charge": DisputeReason.duplicate,
    "incorrect_amount": DisputeReason.wrong_amount,
    "not_received": DisputeReason.not_received,
    "not_as_described": DisputeReason.not_as_described,
    "refund_not_processed": DisputeReason.refund_not_processed,
    "cancelled_recurring": DisputeReason.cancelled_subscription,
}
FRAUD_CATEGORIES = frozenset({"unauthorised", "lost_or_stolen"})
# The reason a ticket is routed on (chalicelib/tickets/data/routing.yaml), most pressing first: the
# customer's safety and legal exposure before the kind of payment problem.
TICKET_REASON_ORDER = ("vulnerable_customer", "legal_threat", "regulator_mention")
# Why an in-scope mail that neither opened a case nor escalated still goes to a person (stable codes):
# nothing a customer writes about a payment may end as a record no queue shows.
SENDER_NOT_IDENTIFIED = "sender_not_identified"  # no customer has this address: ask who they are
PAYMENT_NOT_IDENTIFIED = "payment_not_identified"  # a customer, but no one payment the mail points at
NO_AUTOMATIC_ACTION = "no_automatic_action"  # the payment is known; nothing the assistant may do alone
# The team a redirected mail went to, as the sender reads it.
TEAM_NAMES = {"general": "customer service", "complaints": "complaints", "vulnerable_customers": "customer care",
              "fraud": "fraud", "disputes": "disputes"}


class FollowUp(BaseModel):
    """What the email led to; stored by the idempotency guard and read back on a replay."""

    case_id: str | None = None
    case_created: bool = False
    ticket_id: str | None = None
    ack_message_id: str | None = None
    ack_skipped: str | None = None  # why no acknowledgement went out (chalicelib/ingest/unmatched.py REFUSALS)
    detail: str = ""


def ticket_reason(rec: TriageRecord, reasons: list[str]) -> str:
    """The routing reason for an email that needs a person: vulnerable → vulnerable_customers, legal
    threat / regulator → complaints, another product → its redirect, fraud → fraud, a billing error
    or a card-payment complaint of unclear category → disputes, a hold → fraud, else general."""
    for reason in TICKET_REASON_ORDER:
        if reason in reasons:
            return reason
    if OTHER_PRODUCT in reasons:
        return OTHER_PRODUCT
    category = str(rec.triage.get("category") or "")
    if category in FRAUD_CATEGORIES:
        return "email_fraud"
    if "amount_over_limit" in reasons:
        return "amount_over_limit"
    if category in BILLING_ERRORS or category in ("atm_cash_problem", "pending_charge"):
        return "email_dispute"
    if category == "declined_or_held":
        return "email_hold"
    if rec.status in (TriageStatus.rejected_too_large, TriageStatus.failed_parse):
        return "email_unreadable"
    if "high_urgency" in reasons:
        return "high_urgency"
    if rec.triage.get("scope") == SCOPE_OURS and NOT_A_COMPLAINT not in reasons:
        return "email_dispute"  # a card-payment complaint the classifier could not name: the disputes desk names it
    return "email_general"


def handoff_id_for(record_id: str) -> str:
    return "HND-E" + hashlib.sha256(f"email|{record_id}".encode()).hexdigest()[:10].upper()


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                       autoescape=select_autoescape(["html.j2"]), keep_trailing_newline=True)


@dataclass
class EmailFollowUp:
    """``decide`` is the decision log's ``decide`` (policy + kill switch + record); ``desk`` the ticket
    desk; ``notifier`` sends email (the outbox locally, SES in AWS)."""

    store: Any
    decision_log: Any
    desk: Any
    notifier: Any
    idempotency: Any
    clock: Callable[[], datetime]
    policy_now: Callable[[], Any]
    controls: Any = None
    window_days: int = 120
    own_addresses: frozenset[str] = frozenset()  # never acknowledged (loop prevention)
    colleague_domains: frozenset[str] = frozenset()  # staff who forward customers' mail: never acknowledged
    metrics: Any = None  # GovernanceMetrics: skipped and redirected mail are counted
    # The container's RolloutGate: a dispute of a released hold feeds auto_release_hold, as in chat.
    rollout: Any = None

    def run(self, rec: TriageRecord, outcome: str, reasons: list[str],
            raw_headers: Callable[[], bytes] | None = None) -> FollowUp:
        """``raw_headers`` reads the stored mail's header block, for the acknowledgement of a sender
        we could not match (only called then)."""
        return self.idempotency.run(f"email_followup#{rec.record_id}", self._run, rec, outcome, list(reasons),
                                    raw_headers, decode=FollowUp.model_validate)

    def _run(self, rec: TriageRecord, outcome: str, reasons: list[str],
             raw_headers: Callable[[], bytes] | None = None) -> FollowUp:
        if rec.status is TriageStatus.skipped:
            # Recorded (the record, its decision, this code, a metric), routed to nobody, never answered:
            # a reply to spam confirms the address, a reply to a robot starts a loop.
            code = reasons[0] if reasons else NOT_A_COMPLAINT
            if self.metrics is not None:
                self.metrics.put("EmailSkipped", 1, Reason=code)
            log.info("email_followup: %s skipped (%s)", rec.record_id, code)
            return FollowUp(ack_skipped=rec.automated or code, detail=f"skipped:{code}")
        customer = self.store.customers.get(rec.matched_customer_id) if rec.matched_customer_id else None
        txn = self.store.transactions.get(customer.customer_id, rec.matched_txn_id) if customer and rec.matched_txn_id else None
        case, created, file_reasons, detail = None, False, [], "no_case"
        reason = BILLING_ERRORS.get(str(rec.triage.get("category") or ""))
        if txn is not None and reason is not None:
            case = self.store.cases.find_by_transaction(txn.customer_id, txn.txn_id)
            detail = "joined_case" if case else detail
            if case is None and outcome == "allow":
                case, created, file_reasons, detail = self._file(rec, txn, reason)
        ticket = None
        if outcome != "allow" or file_reasons:
            ticket = self._escalate(rec, customer, txn, reasons + file_reasons, outcome)
        elif case is None:  # allowed, yet nothing happened: a person picks it up
            why = SENDER_NOT_IDENTIFIED if customer is None else PAYMENT_NOT_IDENTIFIED if txn is None \
                else NO_AUTOMATIC_ACTION
            ticket = self._escalate(rec, customer, txn, reasons + [why], outcome)
            detail = why
        if OTHER_PRODUCT in reasons and self.metrics is not None:
            self.metrics.put("EmailRedirected", 1, Product=str(rec.triage.get("product") or "unknown")[:40])
        if rec.automated:  # machine mail that reaches a person (a protected signal): never answered
            ack, skipped = None, rec.automated
        elif customer is not None:
            ack, skipped = self._acknowledge(rec, customer, txn, case, ticket), None
        else:
            ack, skipped = self._acknowledge_unmatched(rec, raw_headers, ticket)
        if case is not None and not created and case.case_id != rec.matched_case_id:
            detail = "joined_case"
        return FollowUp(case_id=case.case_id if case else None, case_created=created,
                        ticket_id=ticket.ticket_id if ticket else None, ack_message_id=ack, ack_skipped=skipped,
                        detail=detail)

    def _file(self, rec: TriageRecord, txn, reason: DisputeReason):
        """The same decision chat takes before filing (action file_dispute, capability
        auto_file_dispute), on the email's facts; escalates instead of filing when it says so."""
        from chalicelib.governance.policy import DecisionRequest

        now = self.clock()
        eligible = eligibility(self.store, txn, now, self.window_days)
        if not eligible.ok:  # a person answers what the assistant may not file (pending, out of window ...)
            reasons = [] if eligible.existing_case else [f"dispute_{eligible.reason}"]
            return eligible.existing_case, False, reasons, f"not_eligible:{eligible.reason}"
        customer = self.store.customers.get(txn.customer_id)
        posted = txn.posted_at or txn.occurred_at
        policy = self.policy_now()
        since = now - timedelta(days=policy.document.disputes.repeat.window_days)
        recent = [c for c in self.store.cases.list_for_customer(txn.customer_id)
                  if c.created_at >= since and c.txn_id != txn.txn_id]
        request = DecisionRequest(
            action="file_dispute", channel="email", category=reason.value, amount_minor=txn.amount_minor,
            currency=txn.currency, vulnerable=bool(customer and customer.vulnerable),
            txn_age_days=max(0, (now - posted).days), txn_status=txn.status.value, already_disputed=False,
            customer_dispute_count_window=len(recent),
            language=str(rec.triage.get("language") or "en")[:16],
        )
        result = self.decision_log.decide(
            request, customer_id=txn.customer_id, capability="auto_file_dispute", controls=self.controls,
            policy=policy, subject={"txn_id": txn.txn_id, "triage_record_id": rec.record_id},
            decision_id=derive_decision_id("file_dispute", "email", rec.record_id), tier="rules",
        )
        if self.rollout is not None:  # no case on this payment yet (else the email joined it): not disputed before
            self.rollout.released_hold_disputed(self.store, txn, reason, already_disputed=False)
        if result.outcome != "allow" or not result.acted:
            return None, False, list(result.decision.reasons) or ["policy_file_dispute"], "escalated_by_policy"
        text = str(rec.triage.get("redacted_text") or "")[:500]
        case, created = open_case(self.store, txn, reason, txn.amount_minor, now, None, scrub_pans(text)[0], channel="email")
        return case, created, [], "opened_case" if created else "joined_case"

    def _escalate(self, rec: TriageRecord, customer, txn, reasons: list[str], outcome: str):
        # Built from codes, not the mail's words: the summary goes to the team's SNS topic, and a
        # subject can carry digits the outbound guard refuses; the redacted mail is in the bundle.
        category = str(rec.triage.get("category") or "unknown")[:64].replace("_", " ")
        if OTHER_PRODUCT in reasons:  # the redirecting team needs the product more than our category
            category = f"about {product_words(rec.triage.get('product')) or 'another product'}, not a card dispute"
        summary = f"Email ({category}): " + ", ".join(r.replace("_", " ") for r in reasons[:5])
        handoff = Handoff(handoff_id=handoff_id_for(rec.record_id), customer_id=customer.customer_id if customer else None,
                          session_id=rec.record_id, reason=ticket_reason(rec, reasons), summary=summary,
                          channel="email", created_at=rec.received_at)
        decisions = [{"decision_id": rec.decision_id, "at": rec.received_at, "actor": "assistant", "action": "route_message",
                      "outcome": outcome, "reasons": reasons, "explanation": "email escalated: " + ", ".join(reasons)}] \
            if rec.decision_id else []
        # The mail itself, as triage redacted it, is the conversation the agent reads (the bundle
        # bounds its length and guards it again).
        text = str(rec.triage.get("redacted_text") or "")
        messages = [{"role": "customer", "text": text, "at": outbound_time(rec.received_at)}] if text else None
        return self.desk.escalate(handoff, identity_level="claimed" if customer else "anonymous",
                                  txn_id=txn.txn_id if txn else None, decisions=decisions, triage=rec.triage,
                                  conversation_kind="email", messages=messages).ticket

    def _acknowledge_unmatched(self, rec: TriageRecord, raw_headers: Callable[[], bytes] | None,
                               ticket=None) -> tuple[str | None, str | None]:
        """(message id, None) when the sender got the plain acknowledgement (or, for another product,
        where it went), else (None, refusal code). A forward is a colleague's only from a domain of
        ours: a customer forwarding a merchant's mail wrote to us and hears back."""
        if raw_headers is None:
            return None, "headers_unavailable"
        headers = parse_headers(raw_headers())
        domain = (rec.sender or "").rpartition("@")[2].lower()
        colleague = bool(rec.original_sender) and domain in self.colleague_domains
        refusal = reply_refusal(headers, self.own_addresses, forwarded=colleague)
        if refusal is not None:
            log.info("email_followup: no acknowledgement for %s (%s)", rec.record_id, refusal)
            return None, refusal
        to = sender_address(headers) or ""
        notice = (redirect_notice(rec.record_id, to, product=rec.triage.get("product"), team=self._team(ticket))
                  if self._redirected(ticket) else unmatched_notice(rec.record_id, to))
        self.notifier.send(notice)
        return notice.message_id, None

    def _acknowledge(self, rec: TriageRecord, customer, txn, case, ticket) -> str | None:
        """To the address on file (never to the sender of a forwarded mail): reference, next step and
        by when (the case's next regulatory deadline, else the ticket's SLA)."""
        if case is None and ticket is None:
            return None
        if self._redirected(ticket):
            notice = redirect_notice(rec.record_id, customer.email, product=rec.triage.get("product"),
                                     team=self._team(ticket), customer_id=customer.customer_id,
                                     name=customer.name.split()[0] if customer.name else "", ref=ticket.ticket_id)
            self.notifier.send(notice)
            return notice.message_id
        today = self.clock().date()
        next_deadline = next_customer_deadline(self.store, case, today) if case is not None else None
        values = {
            "name": customer.name.split()[0] if customer.name else "",
            "case_id": case.case_id if case else None, "ticket_id": ticket.ticket_id if ticket else None,
            "merchant": txn.merchant_name if txn else None, "last4": txn.card_last4 if txn else None,
            "amount": f"{txn.amount_minor / 100:,.2f} {txn.currency}" if txn else None,
            "deadline": next_deadline, "decision_due": case.decision_due if case else None, "sla_due": ticket.sla_due if ticket else None,
            "queue": ticket.queue.value.replace("_", " ") if ticket else None,
        }
        ref = values["case_id"] or values["ticket_id"]
        env = _templates()
        notice = Notice(
            message_id=f"ack-{rec.record_id}", customer_id=customer.customer_id, channel="email", to=customer.email,
            subject=f"We have received your message ({ref})",
            text=env.get_template("acknowledgment.txt.j2").render(**values),
            html=env.get_template("acknowledgment.html.j2").render(**values),
            # An automatic answer says so (RFC 3834): a customer's out-of-office responder that honours
            # it does not answer back, so a header-less auto-reply of theirs cannot start a loop.
            headers=AUTO_REPLY_HEADERS,
        )
        self.notifier.send(notice)
        return notice.message_id

    @staticmethod
    def _redirected(ticket) -> bool:
        return ticket is not None and ticket.reason == OTHER_PRODUCT

    @staticmethod
    def _team(ticket) -> str:
        queue = ticket.queue.value if ticket is not None else "general"
        return TEAM_NAMES.get(queue, queue.replace("_", " "))


def email_notifier(settings: Any) -> Any:
    """Customer email: the outbox locally, SES in AWS (the agent API's resolution email uses the same)."""
    from chalicelib.outbox import LocalOutbox

    if settings.backend == "sqlite" or settings.notifier == "outbox":
        return LocalOutbox(settings.outbox_dir)
    from chalicelib.core.aws import client as aws_client
    from chalicelib.tickets.notify import SesEmailNotifier

    return SesEmailNotifier(aws_client("ses", settings), settings.email_sender)


def build_email_followup(settings: Any, *, store: Any, decision_log: Any, desk: Any, idempotency: Any,
                         policy_store: Any, controls: Any = None, notifier: Any = None, rollout: Any = None,
                         clock: Callable[[], datetime], metrics: Any = None) -> EmailFollowUp:
    """The follow-up of the container's email service; ``desk`` comes from the composition root."""
    if desk is None or not callable(getattr(desk, "escalate", None)):
        raise TypeError("build_email_followup needs the ticket desk (an object with escalate(handoff, ...))")
    return EmailFollowUp(store, decision_log, desk, notifier if notifier is not None else email_notifier(settings),
                         idempotency, clock, policy_store.current, controls, settings.dispute_window_days,
                         frozenset({settings.email_sender}),
                         frozenset(d.strip().lower() for d in settings.email_colleague_domains if d.strip()), metrics,
                         rollout)
