"""The storage protocol every backend implements (see tests/contract/ for its contract)."""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Protocol

from chalicelib.core.models import (
    Card,
    CaseState,
    Customer,
    DisputeCase,
    FraudDecision,
    Handoff,
    Transaction,
    TriageRecord,
    VerificationState,
)


class RepositoryError(Exception):
    """A storage operation failed (backend unavailable, corrupt record ...)."""


class AlreadyExists(RepositoryError):
    """A conditional create found the record already there (idempotency / uniqueness)."""


class NotFound(RepositoryError):
    pass


class InvalidTransition(RepositoryError):
    pass


class CustomerRepo(Protocol):
    def put(self, customer: Customer) -> None: ...
    def get(self, customer_id: str) -> Customer | None: ...
    def list_ids(self) -> list[str]: ...
    def delete(self, customer_id: str) -> None: ...
    def find_by_email(self, email: str) -> list[Customer]:
        """Customers whose email on file equals ``email`` (case-insensitive, trimmed). A list, not
        one: email ingestion links a sender to a customer only when exactly one matches."""
        ...


class CardRepo(Protocol):
    def put(self, card: Card) -> None: ...
    def list_for_customer(self, customer_id: str) -> list[Card]: ...
    def find_by_last4(self, last4: str) -> list[Card]:
        """All cards (of any customer) ending in last4: used only by step-up verification."""
        ...


class TransactionRepo(Protocol):
    def put(self, txn: Transaction) -> None: ...
    def put_many(self, txns: list[Transaction]) -> None: ...
    def get(self, customer_id: str, txn_id: str) -> Transaction | None: ...
    def list_for_customer(
        self, customer_id: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[Transaction]:
        """Newest first; since/until bound occurred_at (inclusive)."""
        ...


class FraudDecisionRepo(Protocol):
    def put(self, decision: FraudDecision) -> None: ...
    def get_for_transaction(self, customer_id: str, txn_id: str) -> FraudDecision | None: ...
    def list_for_customer(self, customer_id: str) -> list[FraudDecision]: ...


class CaseRepo(Protocol):
    def create(self, case: DisputeCase) -> DisputeCase:
        """Create; raises AlreadyExists if the customer already has an open or any case on
        this transaction (one transaction, one case, whatever the channel)."""
        ...

    def get(self, customer_id: str, case_id: str) -> DisputeCase | None: ...
    def find_by_transaction(self, customer_id: str, txn_id: str) -> DisputeCase | None: ...
    def list_for_customer(self, customer_id: str) -> list[DisputeCase]:
        """Newest first."""
        ...

    def transition(self, customer_id: str, case_id: str, new_state: CaseState, note: str = "", *,
                   actor: str | None = None, actor_kind: str | None = None) -> DisputeCase:
        """Move along CASE_TRANSITIONS (raises InvalidTransition otherwise), appending history: the
        new state, ``note`` (why), the state it left and who moved it (``actor``, ``actor_kind``:
        customer | assistant | agent | system; both or neither)."""
        ...


class HandoffRepo(Protocol):
    def create(self, handoff: Handoff) -> Handoff: ...
    def get(self, handoff_id: str) -> Handoff | None: ...
    def list_for_session(self, session_id: str) -> list[Handoff]: ...


class VerificationRepo(Protocol):
    def get(self, session_id: str) -> VerificationState | None: ...
    def put(self, state: VerificationState) -> None: ...
    def failures_for_customer(self, customer_id: str, since: datetime) -> int:
        """Failed attempts against this customer across sessions (lockout is not per session)."""
        ...

    def record_customer_failure(self, customer_id: str, at: datetime) -> None: ...

    def update(
        self, session_id: str, change: Callable[[VerificationState | None], VerificationState | None]
    ) -> tuple[VerificationState | None, bool]:
        """Apply ``change`` to the current state atomically (no other write can land between the
        read and the write). ``change`` returns the state to write, or None to write nothing; it
        must be pure, as a backend may call it again after losing a race. Returns the state as
        stored afterwards and whether this call wrote it."""
        ...


class TriageRepo(Protocol):
    def create(self, record: TriageRecord) -> TriageRecord:
        """Store a new record; raises AlreadyExists if ``record_id`` is taken (the same mail
        delivered twice), so concurrent duplicates cannot both write."""
        ...

    def get(self, record_id: str) -> TriageRecord | None: ...
    def find_by_s3_object(self, bucket: str, key: str) -> TriageRecord | None:
        """The record created from this S3 object (None when it came from another object)."""
        ...

    def list_for_customer(self, customer_id: str) -> list[TriageRecord]:
        """Records matched to the customer, newest first."""
        ...

    def list_skipped(self, code: str, limit: int = 100) -> list[TriageRecord]:
        """Skipped records (status ``skipped``, no agent queue shows them) whose skip code (first
        reason) is ``code``, newest first: what an auditor reads to check nothing was dropped."""
        ...


class Store(Protocol):
    customers: CustomerRepo
    cards: CardRepo
    transactions: TransactionRepo
    fraud: FraudDecisionRepo
    cases: CaseRepo
    handoffs: HandoffRepo
    verifications: VerificationRepo
    triage: TriageRepo

    def create_schema(self) -> None:
        """Create tables if missing (idempotent)."""
        ...
