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
import random
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Any, Callable, Iterator, Sequence

from chalicelib.core.clock import sortable_utc, utcnow
from chalicelib.core.ids import new_decision_id
from chalicelib.governance.decision_log.anchor import HeadAnchor
from chalicelib.governance.decision_log.chain import (
    GENESIS_HASH, VerifyResult, canonical_json, compute_hash, verify_records)
from chalicelib.governance.decision_log.errors import ChainContention, DecisionLogError, DuplicateDecisionId
from chalicelib.governance.decision_log.explain import compose_explanation
from chalicelib.governance.decision_log.guard import guard_no_pan
from chalicelib.governance.decision_log.record import DecisionRecord
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
        return self.append_many([decision])[0]

    def append_many(self, decisions: Sequence[DecisionRecord]) -> list[DecisionRecord]:
        """Chain and store ``decisions`` in their order, ``store.max_batch`` records a write (one
        transaction: all of them or none), and advance the anchor once, to the last one written.

        Why: the card-event stream records a Kinesis batch's decisions together; one transaction
        and one anchor write per batch instead of per decision. A decision already recorded (a
        retry, a redelivered batch) is returned as stored and not written again, so re-running a
        batch that was cut short records exactly the rest. Every record is PAN-guarded before
        anything is written. Returns the stored record of each decision, in the given order.
        """
        drafts: dict[str, dict[str, Any]] = {}
        for decision in decisions:
            if decision.decision_id not in drafts:
                draft = decision.to_record()
                guard_no_pan(draft)
                drafts[decision.decision_id] = draft
        ids = list(drafts)
        stored: dict[str, DecisionRecord] = {}
        created: list[DecisionRecord] = []
        size = max(1, self.store.max_batch)
        try:
            for start in range(0, len(ids), size):
                self._append_chunk([drafts[i] for i in ids[start:start + size]], stored, created)
        finally:  # what was written stands, even if a later chunk failed: anchor it
            self._after_append(created)
        return [stored[d.decision_id] for d in decisions]

    def _append_chunk(self, drafts: list[dict[str, Any]], stored: dict[str, DecisionRecord],
                      created: list[DecisionRecord]) -> None:
        duplicate = None  # an id the store said is taken: it must be readable now
        for attempt in range(self.max_retries):
            todo = []
            for draft in drafts:
                decision_id = draft["decision_id"]
                if decision_id in stored:
                    continue
                existing = self.store.get(decision_id)
                if existing is not None:
                    stored[decision_id] = DecisionRecord.model_validate_json(existing.doc)
                elif decision_id == duplicate:
                    raise DuplicateDecisionId(decision_id)
                else:
                    todo.append(draft)
            if not todo:
                return
            head = self.store.head()
            seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
            rows = []
            for draft in todo:
                draft["seq"], draft["prev_hash"] = seq, prev
                draft["hash"] = prev = compute_hash(draft)
                rows.append((seq, draft["decision_id"], sortable_utc(draft["at"]), draft.get("customer_ref"),
                             draft["hash"], canonical_json(draft)))
                seq += 1
            try:
                if self.store.try_append_many(rows):
                    for draft in todo:
                        stored[draft["decision_id"]] = record = DecisionRecord.model_validate(draft)
                        created.append(record)
                    return
            except DuplicateDecisionId as exc:  # a racing writer recorded one of them: look again
                duplicate = exc.args[0] if exc.args else None
                continue
            time.sleep(min(0.05, 0.001 * (attempt + 1)) * random.random())
        raise ChainContention(f"could not append after {self.max_retries} attempts")

    def _after_append(self, created: list[DecisionRecord]) -> None:
        if created and self.anchor is not None:
            try:
                self.anchor.advance(created[-1].seq, created[-1].hash)
            except Exception:  # the decisions stand; verify reports the unanchored records
                log.exception("decision_log.anchor_write_failed seq=%s", created[-1].seq)
        for stored in created:
            try:
                if self.metrics is not None:  # the container's metrics (chatbot/bootstrap.py wires them)
                    self.metrics.decision(stored)
            except Exception:  # metrics must never cost a decision
                log.exception("metrics emission failed")

    def record(self, **fields: Any) -> DecisionRecord:
        """Record one decision (the fields of :meth:`build`)."""
        return self.append(self.build(**fields))

    def record_many(self, calls: Sequence[dict[str, Any]]) -> list[DecisionRecord]:
        """Record several decisions in one batch (:meth:`append_many`), each given as :meth:`build`'s fields."""
        return self.append_many([self.build(**fields) for fields in calls])

    def build(
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
        """One decision, not yet chained. Outcome and reasons default to the policy's; explanation is composed.

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
        return DecisionRecord(
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
