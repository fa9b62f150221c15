"""The escalation request: what a chat turn or an email puts on the escalation queue for the worker
that opens the ticket (chalicelib/tickets/escalation_worker.py).

Why a message and not a call: the ticket, its merge and its team announcement are work that can
fail (a throttled table, an SNS outage) and must then be retried, never lost, and never slow the
customer's turn. The message is small, versioned and redacted:

- ``schema`` / ``version`` name its shape; a worker refuses a shape it does not know with a stable
  code (``escalation.message.schema_unsupported``) and the queue parks it in the dead-letter queue;
- ``ticket_id`` is derived from ``idempotency_key`` alone (``ticket_id_for_key``), so the customer is
  quoted the reference before the worker runs, and every redelivery names the same ticket;
- it carries the inputs of the context bundle (the transcript lines, decisions, triage, which
  payment), not the bundle: the worker builds it from the store when it opens the ticket;
- every string passes the one outbound guard (chalicelib.core.pci) before it is serialised.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.core.pci import guard_value
from chalicelib.tickets.model import Priority, Queue, TicketSource, escalation_key, ticket_id_for_key

SCHEMA = "da.escalation"
VERSION = 1
MAX_BODY_BYTES = 200 * 1024  # SQS takes 256 KiB; the rest is headroom for attributes
SHRUNK_TEXT_CHARS = 4000  # each free text of the inputs, when the whole would not fit


class EscalationMessageError(Exception):
    """A message no retry can fix. ``code`` is stable (logs, alarms and the DLQ runbook match on it)."""

    def __init__(self, code: str, detail: str):
        self.code = code
        super().__init__(f"[{code}] {detail}")


class BundleInputs(BaseModel):
    """What the worker needs to build the context bundle, besides the store."""

    model_config = ConfigDict(extra="forbid")

    identity_level: str = Field(default="anonymous", max_length=32)
    txn_id: str | None = Field(default=None, max_length=64)
    conversation_kind: str = Field(default="chat", max_length=16)
    messages: list[dict[str, Any]] = Field(default_factory=list)  # {role, text, at}, redacted
    decisions: list[dict[str, Any]] = Field(default_factory=list)  # decision summaries
    triage: dict[str, Any] | None = None
    truncated: bool = False  # free texts were cut to fit the queue; the full mail stays in its record


class EscalationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_name: Literal["da.escalation"] = Field(default=SCHEMA, alias="schema")
    version: Literal[1] = VERSION
    idempotency_key: str = Field(min_length=1, max_length=400)
    ticket_id: str = Field(min_length=1, max_length=32)
    source: TicketSource
    source_ref: str = Field(min_length=1, max_length=200)
    customer_ref: str | None = Field(default=None, max_length=128)
    reason: str = Field(min_length=1, max_length=64)
    queue: Queue
    priority: Priority
    case_id: str | None = Field(default=None, max_length=64)
    summary: str = Field(default="", max_length=500)
    created_at: datetime
    inputs: BundleInputs = Field(default_factory=BundleInputs)

    def to_body(self) -> str:
        """The SQS body: JSON, guarded, within the size SQS accepts. A long email's free texts are cut
        (``inputs.truncated``) rather than the escalation refused."""
        doc = guard_value(self.model_dump(mode="json", by_alias=True))
        body = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        if len(body.encode()) > MAX_BODY_BYTES:
            doc["inputs"] = {**_shrunk(doc["inputs"]), "truncated": True}
            body = json.dumps(doc, sort_keys=True, separators=(",", ":"))
        if len(body.encode()) > MAX_BODY_BYTES:
            raise EscalationMessageError("escalation.message.too_large",
                                         f"{len(body.encode())} bytes for ticket {self.ticket_id}")
        return body


def _shrunk(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= SHRUNK_TEXT_CHARS else value[:SHRUNK_TEXT_CHARS] + " [cut]"
    if isinstance(value, dict):
        return {k: _shrunk(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shrunk(v) for v in value[:200]]
    return value


def escalation_request(*, source: TicketSource | str, source_ref: str, reason: str, queue: Queue | str,
                       priority: Priority | str, created_at: datetime, customer_ref: str | None = None,
                       case_id: str | None = None, summary: str = "", inputs: BundleInputs | None = None
                       ) -> EscalationRequest:
    """A request whose idempotency key and ticket id are derived from what raised it."""
    key = escalation_key(source, source_ref, reason, customer_ref)
    return EscalationRequest(
        idempotency_key=key, ticket_id=ticket_id_for_key(key), source=TicketSource(source), source_ref=source_ref,
        customer_ref=customer_ref, reason=reason, queue=Queue(queue), priority=Priority(priority), case_id=case_id,
        summary=summary, created_at=created_at, inputs=inputs or BundleInputs(),
    )


def parse_escalation(body: Any) -> EscalationRequest:
    """The request in an SQS body, or EscalationMessageError with the reason it can never be opened."""
    if not isinstance(body, str):
        raise EscalationMessageError("escalation.message.unparseable", "the SQS body is not text")
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise EscalationMessageError("escalation.message.unparseable", f"not JSON ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise EscalationMessageError("escalation.message.unparseable", "not a JSON object")
    if doc.get("schema") != SCHEMA or doc.get("version") != VERSION:
        raise EscalationMessageError(
            "escalation.message.schema_unsupported",
            f"schema {str(doc.get('schema'))[:40]!r} version {str(doc.get('version'))[:10]!r}; "
            f"this worker reads {SCHEMA} version {VERSION}")
    try:
        request = EscalationRequest.model_validate(doc)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})[:5]
        raise EscalationMessageError("escalation.message.invalid", f"bad fields {fields}") from None
    if request.ticket_id != ticket_id_for_key(request.idempotency_key) or request.idempotency_key != escalation_key(
            request.source, request.source_ref, request.reason, request.customer_ref):
        raise EscalationMessageError("escalation.message.invalid", "ticket id does not derive from its key")
    return request
