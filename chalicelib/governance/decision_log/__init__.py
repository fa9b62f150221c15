"""Append-only, hash-chained log of every automated or human decision.

Why a chain: an auditor must be able to trust that nobody rewrote or removed a decision after the
fact. Each record stores the SHA-256 of the previous one, and its own hash covers every field, so
editing, deleting or reordering any stored record breaks verification at that record
(``python -m chalicelib.audit verify``). Publishing the head hash elsewhere (S3 export with object
lock, a ticket, an email to compliance) also catches a rewrite of the whole tail.

Why two tables: personal data must be erasable but the chain must stay verifiable. The log never
holds a customer id: only ``customer_ref = HMAC(per-customer key, customer_id)``. The keys live in a
separate vault; erasing a customer deletes their key (crypto-shredding), after which the ref in
the log can no longer be linked to anyone while every hash still verifies. Inputs are the
redacted policy facts; a guard refuses any string that looks like a card number.

Where things are: ``chain`` (hashing, verification, JSONL reading), ``guard`` (the PAN guard, on
``chalicelib.core.pci``), ``record`` (``DecisionRecord``), ``store`` (backend protocols),
``sqlite`` and ``dynamodb`` (backends), ``explain`` (customer text), ``log`` (``DecisionLog``,
``decide()``), ``factory`` (``build_decision_log``). Decision ids come from ``chalicelib.core.ids``.
"""
from __future__ import annotations

from chalicelib.core.ids import derive_decision_id, new_decision_id
from chalicelib.governance.decision_log.chain import (
    GENESIS_HASH, BadRecord, StoredRecord, VerifyResult, canonical_json, compute_hash, read_jsonl, verify_records)
from chalicelib.governance.decision_log.dynamodb import DynamoDecisionStore, DynamoPseudonymVault
from chalicelib.governance.decision_log.errors import (
    ChainContention, DecisionLogError, DuplicateDecisionId, PiiRejected)
from chalicelib.governance.decision_log.explain import ACTION_TEXT, compose_explanation
from chalicelib.governance.decision_log.guard import contains_pan, guard_no_pan
from chalicelib.governance.decision_log.factory import build_decision_log, pseudonym_table_name
from chalicelib.governance.decision_log.log import DecisionLog, DecisionResult
from chalicelib.governance.decision_log.record import DecisionRecord
from chalicelib.governance.decision_log.sqlite import SqliteDecisionStore, SqlitePseudonymVault
from chalicelib.governance.decision_log.store import DecisionStore, PseudonymVault

__all__ = [
    "ACTION_TEXT", "GENESIS_HASH", "BadRecord", "ChainContention", "DecisionLog", "DecisionLogError",
    "DecisionRecord", "DecisionResult", "DecisionStore", "DuplicateDecisionId", "DynamoDecisionStore",
    "DynamoPseudonymVault", "PiiRejected", "PseudonymVault", "SqliteDecisionStore", "SqlitePseudonymVault",
    "StoredRecord", "VerifyResult", "build_decision_log", "canonical_json", "compose_explanation",
    "compute_hash", "contains_pan", "derive_decision_id", "guard_no_pan",
    "new_decision_id", "pseudonym_table_name", "read_jsonl", "verify_records",
]
