"""Domain models.

Money is kept in integer minor units (cents) so that sums and comparisons are exact; a card is
known only by its last four digits (PCI DSS 3.4: the full PAN is never stored).
"""
from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.core.clock import utcnow  # re-exported: models.utcnow is imported across rooms


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)


class Customer(_Model):
    customer_id: str
    name: str
    email: str
    phone: str
    date_of_birth: date
    # Marker set by the bank (e.g. bereavement, financial difficulty): forces human handling.
    vulnerable: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class CardStatus(str, Enum):
    active = "active"
    frozen = "frozen"
    blocked = "blocked"


class CardType(str, Enum):
    """Which regulation binds a dispute: Regulation E (debit) or Regulation Z (credit)."""

    debit = "debit"
    credit = "credit"


class Card(_Model):
    card_id: str
    customer_id: str
    last4: str
    network: str = "visa"
    status: CardStatus = CardStatus.active
    # Default debit: every card stored before this field existed was worked under Reg E, and
    # Reg E's clock (provisional credit in 10 business days) is the stricter one, so an unknown
    # card is never given a later deadline than the law may require.
    card_type: CardType = CardType.debit

    @field_validator("last4")
    @classmethod
    def _four_digits(cls, v: str) -> str:
        if len(v) != 4 or not v.isdigit():
            raise ValueError("last4 must be exactly four digits")
        return v


class TxnStatus(str, Enum):
    posted = "posted"
    pending = "pending"
    declined = "declined"
    reversed = "reversed"


class Transaction(_Model):
    txn_id: str
    customer_id: str
    card_id: str
    card_last4: str
    descriptor: str  # raw merchant descriptor, e.g. "AMZN MKTP US*2K4"
    merchant_name: str  # cleaned name, e.g. "Amazon Marketplace"
    mcc: str  # ISO 18245 merchant category code, 4 digits
    amount_minor: int  # positive = charge, negative = refund/credit
    currency: str = "USD"
    status: TxnStatus
    occurred_at: datetime
    posted_at: datetime | None = None
    country: str = "US"
    channel: str = "card_present"  # card_present | ecommerce | atm | recurring

    @property
    def amount(self) -> float:
        return self.amount_minor / 100


class FraudAction(str, Enum):
    hold = "hold"
    decline = "decline"
    review = "review"


class FraudDecision(_Model):
    decision_id: str
    customer_id: str
    txn_id: str
    action: FraudAction
    risk_score: float = Field(ge=0, le=1)  # internal: never shown to customers
    reason_codes: list[str]
    model_version: str
    # What releases it, as machine-readable requirement codes (e.g. "step_up_verification").
    release_requirements: list[str] = Field(default_factory=list)
    released: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class DisputeReason(str, Enum):
    unauthorised = "unauthorised"
    duplicate = "duplicate"
    wrong_amount = "wrong_amount"
    not_received = "not_received"
    not_as_described = "not_as_described"
    refund_not_processed = "refund_not_processed"
    cancelled_subscription = "cancelled_subscription"


class CaseState(str, Enum):
    opened = "opened"
    awaiting_customer = "awaiting_customer"
    provisional_credit = "provisional_credit"
    under_review = "under_review"
    resolved_won = "resolved_won"
    resolved_lost = "resolved_lost"
    withdrawn = "withdrawn"


OPEN_CASE_STATES = frozenset(
    {CaseState.opened, CaseState.awaiting_customer, CaseState.provisional_credit, CaseState.under_review}
)

# Allowed transitions of the dispute state machine (who may make each: chalicelib/cases/data/lifecycle.yaml).
# Reg E: a case still being worked when its provisional-credit date comes (under review, or waiting
# for the customer) must move to provisional_credit, and a credited case may still need the customer.
CASE_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.opened: frozenset(
        {CaseState.awaiting_customer, CaseState.provisional_credit, CaseState.under_review, CaseState.withdrawn}
    ),
    CaseState.awaiting_customer: frozenset(
        {CaseState.under_review, CaseState.provisional_credit, CaseState.withdrawn, CaseState.resolved_lost}
    ),
    CaseState.provisional_credit: frozenset(
        {CaseState.awaiting_customer, CaseState.under_review, CaseState.resolved_won, CaseState.resolved_lost,
         CaseState.withdrawn}
    ),
    CaseState.under_review: frozenset(
        {CaseState.awaiting_customer, CaseState.provisional_credit, CaseState.resolved_won, CaseState.resolved_lost,
         CaseState.withdrawn}
    ),
    CaseState.resolved_won: frozenset(),
    CaseState.resolved_lost: frozenset(),
    CaseState.withdrawn: frozenset(),
}


class CaseEvent(_Model):
    """One step of a case's history; ``note`` says why. Who made it (``actor``/``actor_kind``) and
    the state it left are recorded by chalicelib.cases.lifecycle (None on older records)."""

    at: datetime = Field(default_factory=utcnow)
    state: CaseState
    note: str = ""
    from_state: CaseState | None = None
    actor: str | None = None
    actor_kind: str | None = None  # customer | assistant | agent | system


class DisputeCase(_Model):
    case_id: str  # customer-facing reference, e.g. "DSP-7K2M9Q"
    customer_id: str
    txn_id: str
    reason: DisputeReason
    disputed_amount_minor: int = Field(gt=0)
    currency: str = "USD"
    merchant_contacted: bool | None = None
    description: str = ""  # redacted before storage
    state: CaseState = CaseState.opened
    channel: str = "chat"
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    provisional_credit_due: date | None = None
    decision_due: date | None = None
    history: list[CaseEvent] = Field(default_factory=list)
    # Card-network reason code (chalicelib.cases.reason_codes), e.g. "13.1" (Visa) or "4855" (Mastercard).
    network_reason_code: str | None = None
    # Evidence collected so far: checklist item key -> redacted note (chalicelib.cases.evidence).
    evidence: dict[str, str] = Field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_CASE_STATES


class Handoff(_Model):
    """A request for a human, recorded with the context the agent will need."""

    handoff_id: str  # customer-facing reference, e.g. "HND-4F7K2P"
    customer_id: str | None  # None when the customer was never verified
    session_id: str
    reason: str  # machine-readable: customer_request | lockout | repeated_failure | policy | ...
    summary: str  # redacted
    context: dict = Field(default_factory=dict)
    channel: str = "chat"
    created_at: datetime = Field(default_factory=utcnow)
    status: str = "queued"


class VerificationState(_Model):
    """Step-up verification state for one chat session (server-side: never trusted from Lex)."""

    session_id: str
    candidate_customer_id: str | None = None
    otp_hash: str | None = None
    otp_expires_at: datetime | None = None
    failures: int = 0
    locked_until: datetime | None = None
    verified_customer_id: str | None = None
    # When the code was confirmed: freshness counts from here, not from ``updated_at`` (which a
    # later failed attempt on the same session moves). None on records written before it existed.
    verified_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class TriageStatus(str, Enum):
    triaged = "triaged"  # routed to a work queue by the assistant
    escalated = "escalated"  # a human must read it first (urgency, low confidence, policy)
    rejected_too_large = "rejected_too_large"  # over the size cap: never parsed, a human decides
    failed_parse = "failed_parse"  # the triage pipeline failed on it: a human reads the raw mail
    skipped = "skipped"  # not a complaint (spam, newsletter, auto-reply): kept and listed, routed to nobody


class TriageRecord(_Model):
    """One inbound email after triage: what the assistant understood and decided, redacted.

    The raw message stays in the encrypted, expiring S3 bucket (``s3_bucket``/``s3_key``); nothing
    here may hold unredacted text: addresses are masked (domain kept, local part hidden), the
    subject and ``triage.redacted_text`` are redacted, and no card number survives anywhere.
    ``record_id`` is derived from the Message-ID (or the S3 object when there is none), so the
    same mail delivered twice, or the same S3 event delivered twice, is one record.
    """

    record_id: str
    message_id: str | None = None  # None when the mail had none (record_id then comes from S3)
    s3_bucket: str
    s3_key: str
    received_at: datetime = Field(default_factory=utcnow)
    size: int = 0
    sender: str | None = None  # masked: "a***@example.com"
    original_sender: str | None = None  # the customer of a forwarded complaint, masked
    subject: str = ""  # redacted
    triage: dict = Field(default_factory=dict)  # the TriageResult, redacted text only
    matched_customer_id: str | None = None
    matched_txn_id: str | None = None
    matched_case_id: str | None = None
    queue: str | None = None  # work queue it was routed to
    status: TriageStatus
    automated: str | None = None  # machine or list mail by its headers (chalicelib/ingest/mail_headers.py AUTOMATED)
    reasons: list[str] = Field(default_factory=list)
    decision_id: str | None = None
    content_digest: str | None = None  # sha256 of what the sender wrote (chalicelib.ingest.message_identity)
    message_id_collision_with: str | None = None  # the earlier record whose Message-ID this different mail reuses
