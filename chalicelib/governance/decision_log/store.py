"""What a decision-log backend must do (SQLite locally, DynamoDB deployed).

Why a protocol: the chain's guarantees (no fork, no duplicate id) live in the backend's
conditional writes, so every backend is held to the same operations.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator, Protocol, Sequence

from chalicelib.governance.decision_log.chain import StoredRecord



class DecisionStore(Protocol):
    def create_schema(self) -> None: ...
    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last record, read consistently; None for an empty log."""
        ...

    def try_append(self, seq: int, decision_id: str, at: str, customer_ref: str | None, hash: str, doc: str) -> bool:
        """Write the record iff ``seq`` is free; False when another writer took it.
        Raises DuplicateDecisionId if the decision id is already recorded."""
        ...

    max_batch: int  # records ``try_append_many`` takes at once

    def try_append_many(self, rows: Sequence[tuple[int, str, str, str | None, str, str]]) -> bool:
        """Write every ``(seq, decision_id, at, customer_ref, hash, doc)`` row or none of them: False
        when a seq is taken, DuplicateDecisionId when an id is already recorded."""
        ...

    def get(self, decision_id: str) -> StoredRecord | None: ...
    def records(self, since: datetime | None = None) -> Iterator[StoredRecord]:
        """In sequence order; ``since`` filters on the record's time (inclusive)."""
        ...

    def records_for_ref(self, customer_ref: str) -> list[StoredRecord]: ...


class PseudonymVault(Protocol):
    def create_schema(self) -> None: ...
    def get_key(self, customer_id: str) -> bytes | None: ...
    def create_key(self, customer_id: str, key: bytes) -> bytes:
        """Store key unless one exists; return the stored key (the winner's on a race)."""
        ...

    def delete_key(self, customer_id: str) -> bool: ...


