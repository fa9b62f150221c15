"""The decision log: pseudonyms and erasure, appending to the chain, ``decide()``, reading, export.

Concurrency: the sequence number is the key. Two writers that read the same head both try to
write ``seq = head + 1`` with a conditional write; one wins, the other re-reads the head and
retries, so the chain can never fork. Retrying with the same decision id returns the stored
record, so at-least-once callers never log a decision twice.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import random
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Any, Callable, Iterator

from chalicelib.core.clock import sortable_utc, utcnow
from chalicelib.core.ids import new_decision_id
from chalicelib.governance.decision_log.anchor import HeadAnchor, build_head_anchor
from chalicelib.governance.decision_log.chain import (
    GENESIS_HASH, VerifyResult, canonical_json, compute_hash, verify_records)
from chalicelib.governance.decision_log.dynamodb import DynamoDecisionStore, DynamoPseudonymVault
from chalicelib.governance.decision_log.errors import ChainContention, DecisionLogError, DuplicateDecisionId
from chalicelib.governance.decision_log.explain import compose_explanation
from chalicelib.governance.decision_log.guard import guard_no_pan
from chalicelib.governance.decision_log.record import DecisionRecord
from chalicelib.governance.decision_log.sqlite import SqliteDecisionStore, SqlitePseudonymVault
from chalicelib.governance.decision_log.store import DecisionStore, PseudonymVault
from chalicelib.governance.policy import DecisionRequest, Policy, PolicyOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecisionResult:
    """What a caller needs after ``decide``: whether to act, the outcome to follow, the record."""

    acted: bool
    outcome: str
    mode: str
    policy_outcome: PolicyOutcome
    decision: DecisionRecord


class DecisionLog:
    def __init__(
        self,
        store: DecisionStore,
        vault: PseudonymVault,
        clock: Callable[[], datetime] = utcnow,
        max_retries: int = 200,
        metrics=None,
        anchor: HeadAnchor | None = None,
    ):
        self.anchor = anchor  # the head kept outside the store; advanced after every append
        self.metrics = metrics  # a chalicelib.governance.metrics.GovernanceMetrics; None → the container's
        self.store = store
        self.vault = vault
        self.clock = clock
        self.max_retries = max_retries
        self._key_cache: dict[str, bytes] = {}
        self._key_lock = threading.Lock()

    def create_schema(self) -> None:
        self.store.create_schema()
        self.vault.create_schema()

    # ---- pseudonyms and erasure ------------------------------------------------------------

    def customer_ref(self, customer_id: str, create: bool = True) -> str | None:
        """The pseudonymous token for a customer; None if erased/unknown and create is False."""
        key = self.vault.get_key(customer_id)
        if key is None:
            if not create:
                return None
            key = self.vault.create_key(customer_id, secrets.token_bytes(32))
        return "cref_" + hmac.new(key, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def erase_customer(self, customer_id: str) -> bool:
        """Crypto-shred: delete the customer's pseudonym key; the log's refs become unlinkable."""
        return self.vault.delete_key(customer_id)

    # ---- writing -----------------------------------------------------------------------------

    def append(self, decision: DecisionRecord) -> DecisionRecord:
        """Chain and store a decision built by the caller (seq, prev_hash and hash are assigned).

        Retrying with the same decision_id returns the stored record: at-least-once callers
        cannot log a decision twice.
        """
        stored, created = self._append(decision)
        if created and self.anchor is not None:
            try:
                self.anchor.advance(stored.seq, stored.hash)
            except Exception:  # the decision stands; verify reports the unanchored record
                log.exception("decision_log.anchor_write_failed seq=%s", stored.seq)
        if created:
            try:
                if self.metrics is not None:  # the container's metrics (chatbot/bootstrap.py wires them)
                    self.metrics.decision(stored)
            except Exception:  # metrics must never cost a decision
                log.exception("metrics emission failed")
        return stored

    def _append(self, decision: DecisionRecord) -> tuple[DecisionRecord, bool]:
        draft = decision.to_record()
        guard_no_pan(draft)
        existing = self.store.get(decision.decision_id)
        if existing is not None:
            return DecisionRecord.model_validate_json(existing.doc), False
        for attempt in range(self.max_retries):
            head = self.store.head()
            seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
            draft["seq"], draft["prev_hash"] = seq, prev
            draft["hash"] = compute_hash(draft)
            doc = canonical_json(draft)
            try:
                if self.store.try_append(seq, draft["decision_id"], sortable_utc(draft["at"]), draft.get("customer_ref"), draft["hash"], doc):
                    return DecisionRecord.model_validate(draft), True
            except DuplicateDecisionId:
                stored = self.store.get(decision.decision_id)
                if stored is not None:
                    return DecisionRecord.model_validate_json(stored.doc), False
                raise
            time.sleep(min(0.05, 0.001 * (attempt + 1)) * random.random())
        raise ChainContention(f"could not append after {self.max_retries} attempts")

    def record(
        self,
        *,
        action: str,
        outcome: str | None = None,
        actor: str = "assistant",
        channel: str | None = None,
        customer_id: str | None = None,
        request: DecisionRequest | None = None,
        policy_outcome: PolicyOutcome | None = None,
        policy: Policy | None = None,
        reasons: list[str] | None = None,
        explanation: str | None = None,
        models: dict[str, str] | None = None,
        scores: dict[str, float] | None = None,
        tier: str | None = None,
        capability: str | None = None,
        mode: str | None = None,
        shadow: bool = False,
        acted: bool | None = None,
        cost_usd: float = 0.0,
        related_to: str | None = None,
        subject: dict[str, str] | None = None,
        decision_id: str | None = None,
        at: datetime | None = None,
        inputs: dict[str, Any] | None = None,
        policy_version: str | None = None,
    ) -> DecisionRecord:
        """Record one decision. Outcome and reasons default to the policy's; explanation is composed.

        ``inputs`` + ``policy_version`` (without ``request``): a decision under another kind of
        versioned policy (the fraud actions), recorded so replay can re-run it; its ``outcome`` is
        that policy's verdict. ``inputs`` carries its ``kind``."""
        if inputs is not None and (request is not None or not policy_version or "kind" not in inputs):
            raise DecisionLogError("inputs need a kind and a policy_version, and no request beside them")
        if outcome is None:
            if policy_outcome is None:
                raise DecisionLogError("record() needs an outcome or a policy_outcome")
            outcome = policy_outcome.outcome
        if reasons is None:
            reasons = list(policy_outcome.reasons) if policy_outcome else []
        if policy is not None and policy_outcome is not None and policy.version != policy_outcome.policy_version:
            raise DecisionLogError("policy and policy_outcome disagree on the version")
        d = DecisionRecord(
            decision_id=decision_id or new_decision_id(),
            at=(at or self.clock()).astimezone(timezone.utc),
            actor=actor,
            channel=channel or (request.channel if request else "system"),
            action=action,
            capability=capability,
            customer_ref=self.customer_ref(customer_id) if customer_id else None,
            subject=subject or {},
            inputs=request.model_dump(mode="json") if request else (inputs or {}),
            policy_version=policy_outcome.policy_version if policy_outcome else (policy.version if policy else policy_version),
            policy_digest=policy.digest if policy else None,
            policy_outcome=policy_outcome.outcome if policy_outcome else (outcome if inputs else None),
            policy_reasons=list(policy_outcome.reasons) if policy_outcome else [],
            models=models or {},
            scores=scores or {},
            tier=tier,
            mode=mode,
            shadow=shadow,
            acted=(outcome != "escalate" and not shadow) if acted is None else acted,
            outcome=outcome,
            reasons=reasons,
            explanation=explanation if explanation is not None else compose_explanation(action, outcome, reasons),
            cost_usd=round(float(cost_usd), 10),
            related_to=related_to,
        )
        return self.append(d)

    def decide(
        self,
        request: DecisionRequest,
        *,
        customer_id: str | None,
        actor: str = "assistant",
        capability: str | None = None,
        controls=None,
        policy: Policy | None = None,
        **extra: Any,
    ) -> DecisionResult:
        """Evaluate, apply the kill switch / shadow mode, and record: the one call callers need.

        ``capability`` (e.g. "auto_file_dispute") names the control to apply; without it the
        policy outcome is followed as is. ``extra`` goes to :meth:`record` (models, scores, tier,
        cost_usd, subject, related_to, decision_id ...).
        """
        from chalicelib.governance.controls import apply_controls  # controls does not import this module
        from chalicelib.governance.policy import PolicyStore

        policy = policy or PolicyStore.from_env().current()
        policy_outcome = policy.evaluate(request)
        if capability is not None:
            ctl = apply_controls(capability, policy_outcome, controls=controls)
            acted, outcome, mode, shadow = ctl.acted, ctl.outcome, ctl.mode, ctl.mode == "shadow"
            reasons = list(ctl.reasons)
        else:
            outcome, mode, shadow = policy_outcome.outcome, "on", False
            acted = outcome != "escalate"
            reasons = list(policy_outcome.reasons)
        decision = self.record(
            action=request.action,
            outcome=outcome,
            actor=actor,
            customer_id=customer_id,
            request=request,
            policy_outcome=policy_outcome,
            policy=policy,
            reasons=reasons,
            capability=capability,
            mode=mode,
            shadow=shadow,
            acted=acted,
            **extra,
        )
        # On a duplicate id ``record`` hands back the decision stored first (a retry, or a racing
        # duplicate that lost). The caller must act on THAT verdict, not on the one just evaluated
        # (the facts or the policy may have changed since): the outcome acted on is the one in the log.
        stored_policy = policy_outcome
        if decision.policy_outcome is not None and decision.policy_version is not None:
            stored_policy = PolicyOutcome(outcome=decision.policy_outcome, reasons=list(decision.policy_reasons),
                                          policy_version=decision.policy_version)
        return DecisionResult(decision.acted, decision.outcome, decision.mode or mode, stored_policy, decision)

    # ---- reading -----------------------------------------------------------------------------

    def head(self) -> tuple[int, str] | None:
        return self.store.head()

    def get(self, decision_id: str) -> DecisionRecord | None:
        rec = self.store.get(decision_id)
        return DecisionRecord.model_validate_json(rec.doc) if rec else None

    def iter_decisions(self, since: datetime | None = None) -> Iterator[DecisionRecord]:
        for rec in self.store.records(since):
            yield DecisionRecord.model_validate_json(rec.doc)

    def list_for_customer(self, customer_id: str) -> list[DecisionRecord]:
        """A customer's decisions (subject access); empty once the customer is erased."""
        ref = self.customer_ref(customer_id, create=False)
        if ref is None:
            return []
        return [DecisionRecord.model_validate_json(r.doc) for r in self.store.records_for_ref(ref)]

    def verify(self, expected_head: str | None = None, anchored: tuple[int, str] | None = None) -> VerifyResult:
        return verify_records(self.store.records(), expected_head, anchored)

    def export_jsonl(self, fp: IO[str], since: datetime | None = None) -> int:
        """Write stored records verbatim (canonical JSON, one a line) so the export verifies too."""
        n = 0
        for rec in self.store.records(since):
            fp.write(rec.doc + "\n")
            n += 1
        return n

    def export_to_s3(self, s3_client, bucket: str, key: str, since: datetime | None = None) -> int:
        import io

        buf = io.StringIO()
        n = self.export_jsonl(buf, since)
        s3_client.put_object(
            Bucket=bucket,
            Key=key,
            Body=buf.getvalue().encode("utf-8"),
            ContentType="application/x-ndjson",
            ServerSideEncryption="AES256",
        )
        return n


# --------------------------------------------------------------------------------------------
# Factory
# --------------------------------------------------------------------------------------------


def pseudonym_table_name(settings=None) -> str:
    from chalicelib.core.settings import get_settings

    return (settings or get_settings()).tables.pseudonym_keys




def build_decision_log(settings=None, *, dynamodb_client=None, create_schema: bool = True,
                       anchor: HeadAnchor | None = None) -> DecisionLog:
    """A decision log for the configured backend (sqlite path or DynamoDB tables), anchored by
    ``anchor`` or, by default, by the backend's anchor (SSM parameter / local file)."""
    from chalicelib.core.settings import get_settings

    settings = settings or get_settings()
    anchor = anchor or build_head_anchor(settings)
    if settings.backend == "dynamodb":
        if dynamodb_client is None:

            from chalicelib.core.aws import client as aws_client
            dynamodb_client = aws_client("dynamodb", settings)
        dl = DecisionLog(
            DynamoDecisionStore(dynamodb_client, settings.tables.decisions),
            DynamoPseudonymVault(dynamodb_client, pseudonym_table_name(settings)),
            anchor=anchor,
        )
        # In AWS the tables come from infrastructure code; creating them here is for local/moto.
        if create_schema and os.environ.get("DA_CREATE_TABLES", "").lower() in ("1", "true", "yes"):
            dl.create_schema()
        return dl
    dl = DecisionLog(SqliteDecisionStore(settings.sqlite_path), SqlitePseudonymVault(settings.sqlite_path), anchor=anchor)
    if create_schema:
        dl.create_schema()
    return dl



