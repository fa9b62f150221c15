"""The card-event wire format (schema version 1) and the one parser of stream records.

Why a versioned schema: the card processor, the replay CLI, the generator and this consumer are
deployed apart; a producer may add optional fields inside a major version (consumers ignore
unknown ones: ``extra="ignore"``), and a breaking change is a new ``schema_version`` that this
parser refuses with a stable code until it learns it. ``docs/card-events.schema.json`` is generated
from :class:`CardEvent` (``python -m chalicelib.fraud schema``) and checked by a test, so the
document and the code cannot drift.

Ordering: ``sequence`` is the processor's per-card counter (the Kinesis partition key is the card
id, so one card's events share a shard); ``occurred_at`` is when the network saw the event. The
stream orders a transaction's events by ``(sequence, occurred_at)`` and never by arrival.

Every parse failure raises :class:`PoisonRecord` with a code from :data:`ERROR_CODES`: such a
record can never succeed on retry, so the stream quarantines it instead of blocking the shard.
Money is integer minor units; the card is known by id (and last 4 at most), never by PAN.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chalicelib.core.pci import find_pans

SCHEMA_VERSION = 1
SUPPORTED_VERSIONS = frozenset({SCHEMA_VERSION})
MAX_RECORD_BYTES = 16 * 1024

# Stable codes of poison records (documented in the schema file's description; never renumbered).
ERROR_CODES: dict[str, str] = {
    "E_BASE64": "record data is not valid base64",
    "E_TOO_LARGE": f"record larger than {MAX_RECORD_BYTES} bytes",
    "E_JSON": "record data is not a UTF-8 JSON object",
    "E_SCHEMA_VERSION": "schema_version missing or not supported by this consumer",
    "E_VALIDATION": "event fails the schema (missing field, wrong type, bad value)",
    "E_PAN_PRESENT": "a full card number appears in the event: refused, never stored",
    "E_UNKNOWN_CARD": "card_id is not a card of customer_id",
}


class PoisonRecord(Exception):
    """A record that can never be applied: quarantined with ``code``, not retried."""

    def __init__(self, code: str, detail: str = ""):
        assert code in ERROR_CODES, code
        super().__init__(f"{code}: {detail or ERROR_CODES[code]}")
        self.code = code
        self.detail = detail or ERROR_CODES[code]


class EventType(str, Enum):
    authorisation = "authorisation"  # approved by the issuer: the transaction is pending
    decline = "decline"  # refused at authorisation: the transaction is declined
    settlement = "settlement"  # cleared: the transaction is posted (amount may differ, e.g. tips)
    reversal = "reversal"  # authorisation released before settlement: the transaction is reversed
    refund = "refund"  # a credit from the merchant: a new negative transaction


class CnpChecks(BaseModel):
    """Card-not-present verification results as the processor reports them."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    cvv: Literal["match", "mismatch", "not_provided"] = "not_provided"
    avs: Literal["match", "partial", "mismatch", "not_provided"] = "not_provided"


class CardEvent(BaseModel):
    """One card event, schema version 1."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: Literal[1] = Field(description="major version of this schema")
    event_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                          description="unique per event; redeliveries carry the same id")
    event_type: EventType
    occurred_at: datetime = Field(description="when the network saw the event (ISO 8601 with offset)")
    sequence: int = Field(ge=0, description="per-card monotonic counter assigned by the processor")
    card_id: str = Field(min_length=1, max_length=64)
    customer_id: str = Field(min_length=1, max_length=64)
    txn_id: str = Field(min_length=1, max_length=64, description="the transaction this event belongs to")
    original_txn_id: str | None = Field(default=None, max_length=64, description="refunds: the purchase refunded")
    merchant_descriptor: str = Field(min_length=1, max_length=64)
    merchant_name: str | None = Field(default=None, max_length=80)
    mcc: str = Field(pattern=r"^\d{4}$", description="ISO 18245 merchant category code")
    amount_minor: int = Field(gt=0, description="absolute amount in minor units; refunds are credited")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 of the merchant/terminal")
    channel: Literal["card_present", "ecommerce", "atm", "recurring"]
    decline_reason: str | None = Field(default=None, max_length=32, description="declines: processor code")
    cnp: CnpChecks | None = None
    device_new: bool | None = Field(default=None, description="wallet token / device first seen")

    @field_validator("occurred_at")
    @classmethod
    def _aware_utc(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("occurred_at needs a UTC offset")
        return v.astimezone(timezone.utc)

    @model_validator(mode="after")
    def _refund_names_purchase(self) -> "CardEvent":
        if self.event_type is EventType.refund and not self.original_txn_id:
            raise ValueError("a refund must name original_txn_id")
        return self

    @property
    def order_key(self) -> tuple[int, str]:
        """How two events of one transaction are ordered: sequence first, event time breaks ties."""
        return (self.sequence, self.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


def parse_event(body: bytes | str | dict[str, Any]) -> CardEvent:
    """Bytes/text/dict → :class:`CardEvent`, or :class:`PoisonRecord` with a stable code."""
    if isinstance(body, (bytes, bytearray)):
        if len(body) > MAX_RECORD_BYTES:
            raise PoisonRecord("E_TOO_LARGE")
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise PoisonRecord("E_JSON", "not UTF-8") from None
    if isinstance(body, str):
        if find_pans(body):
            raise PoisonRecord("E_PAN_PRESENT")
        try:
            body = json.loads(body)
        except ValueError:
            raise PoisonRecord("E_JSON") from None
        except RecursionError:  # nested deeper than the decoder goes: poison, never a retry
            raise PoisonRecord("E_JSON", "nested too deeply") from None
    if not isinstance(body, dict):
        raise PoisonRecord("E_JSON", "top level is not an object")
    version = body.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        raise PoisonRecord("E_SCHEMA_VERSION", f"got {version!r}"[:60])
    try:
        return CardEvent.model_validate(body)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise PoisonRecord("E_VALIDATION", "invalid: " + ", ".join(fields)) from None


def decode_kinesis_data(data: str) -> bytes:
    """A Kinesis record's ``data`` (base64) → bytes; bad base64 is poison, not a crash."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise PoisonRecord("E_BASE64") from None


def json_schema() -> dict[str, Any]:
    """The published JSON Schema (draft 2020-12) of schema version 1."""
    schema = CardEvent.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://dispute-assistant.example/schemas/card-event/v1.json"
    schema["description"] = (
        "A card event on the da-card-events Kinesis stream (partition key: card_id). "
        "Schema version 1; unknown fields are ignored; a breaking change is a new schema_version. "
        "Poison-record codes: " + "; ".join(f"{k} = {v}" for k, v in ERROR_CODES.items())
    )
    return schema
