"""Deterministic card-event streams for the demo customers, and Kinesis records to carry them.

Why: the stream, the bench and the demo need a realistic day (coffee, groceries, a tip that
changes the settled amount, a reversal, a decline, a refund, and two risky payments: one the
customer can release after step-up, one that must go to a person)
that is byte-identical for the same customer, day and seed, so a test can name what it expects.
Cards come from :mod:`chalicelib.demo.demo_data`, so the events match a seeded store.
"""
from __future__ import annotations

import base64
import hashlib
import json
import random
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any, Iterable

from chalicelib.fraud.events import SCHEMA_VERSION, CardEvent, EventType
from chalicelib.payments.merchants import MERCHANTS, MERCHANTS_BY_KEY, render_descriptor

DEFAULT_SEED = 12
DEMO_CUSTOMERS = ("demo-alice", "demo-bob")
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/da-card-events"
_AVOID_MCC = frozenset({"7995", "6051", "4829", "6011"})
# The day's two risky payments, a realistic mix for the demo and the tests:
# - ``-risk``: a first crypto purchase abroad, card not present, far above usual spend. Three rules
#   fire (risk 0.82, above the policy's hold-release limit 0.80): held, and a "yes, it was me" in
#   chat goes to a person;
# - ``-trip``: later the same evening, a hotel bill paid in person abroad (checking out), more than anything
#   before. Two rules fire (unusual amount, new country; risk 0.67): held, and the customer can
#   release it after step-up. It is the newest, so the chat asks about it first.
RISKY = {"merchant": "coinbase", "amount_minor": 184_900, "country": "RO", "hour": 21}
TRIP = {"merchant": "marriott", "amount_minor": 214_900, "country": "CA", "hour": 23}


@lru_cache(maxsize=4)
def _cards(anchor: date) -> dict[str, tuple[str, ...]]:
    from chalicelib.demo.demo_data import build

    out: dict[str, list[str]] = {}
    for card in build(anchor).cards:
        out.setdefault(card.customer_id, []).append(card.card_id)
    return {k: tuple(v) for k, v in out.items()}


def _id(*parts: Any) -> str:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return "evt_" + base64.b32encode(digest[:15]).decode().lower()


def generate_day(customer_id: str, day: date, *, seed: int = DEFAULT_SEED, purchases: int = 8,
                 risky: bool = True, anchor: date | None = None) -> list[CardEvent]:
    """One customer's events for ``day`` in event-time order, sequences per card from 1."""
    rng = random.Random(f"{seed}|{customer_id}|{day.isoformat()}")
    cards = _cards(anchor or day + timedelta(days=1)).get(customer_id)
    if not cards:
        raise KeyError(f"no demo cards for {customer_id}")
    everyday = [m for m in MERCHANTS if m.weight > 0 and m.mcc not in _AVOID_MCC and m.channel != "recurring"]
    short = customer_id.removeprefix("demo-").removeprefix("cust-")
    base = datetime.combine(day, time(0), tzinfo=timezone.utc)
    drafts: list[dict[str, Any]] = []

    def draft(kind: EventType, txn_id: str, card: str, m, amount: int, at: datetime, **extra) -> None:
        drafts.append(dict(schema_version=SCHEMA_VERSION, event_type=kind, occurred_at=at, card_id=card,
                           customer_id=customer_id, txn_id=txn_id, merchant_descriptor=extra.pop("descriptor"),
                           merchant_name=m.name, mcc=m.mcc, amount_minor=amount, currency="USD",
                           country=extra.pop("country", "US"), channel=m.channel, **extra))

    for i in range(purchases):
        m = rng.choice(everyday)
        card = cards[rng.randrange(len(cards))]
        txn_id = f"txn-{short}-{day:%m%d}-{i:02d}"
        at = base + timedelta(hours=rng.uniform(7, 21))
        amount = rng.randint(*m.amount_range)
        desc = render_descriptor(m, rng)
        fate = rng.random()
        if fate < 0.08:
            draft(EventType.decline, txn_id, card, m, amount, at, descriptor=desc, decline_reason="51")
            continue
        draft(EventType.authorisation, txn_id, card, m, amount, at, descriptor=desc)
        if fate < 0.18:
            draft(EventType.reversal, txn_id, card, m, amount, at + timedelta(minutes=rng.randint(5, 90)), descriptor=desc)
        elif fate < 0.92:
            tip = rng.randint(50, 900) if m.mcc in ("5812", "5814") else 0
            draft(EventType.settlement, txn_id, card, m, amount + tip, at + timedelta(hours=rng.uniform(1, 2.5)),
                  descriptor=desc)
        if i == 1 and 0.18 <= fate < 0.92:  # one refund of a settled purchase, later that day
            draft(EventType.refund, f"{txn_id}-rf", card, m, max(1, amount // 2), at + timedelta(hours=2.7),
                  descriptor=desc, original_txn_id=txn_id)
    if risky:
        m = MERCHANTS_BY_KEY[RISKY["merchant"]]
        draft(EventType.authorisation, f"txn-{short}-{day:%m%d}-risk", cards[0], m, RISKY["amount_minor"],
              base + timedelta(hours=RISKY["hour"], minutes=rng.randint(0, 50)), descriptor=render_descriptor(m, rng),
              country=RISKY["country"], cnp={"cvv": "match", "avs": "not_provided"})
        m = MERCHANTS_BY_KEY[TRIP["merchant"]]
        draft(EventType.authorisation, f"txn-{short}-{day:%m%d}-trip", cards[0], m, TRIP["amount_minor"],
              base + timedelta(hours=TRIP["hour"], minutes=rng.randint(0, 50)), descriptor=render_descriptor(m, rng),
              country=TRIP["country"])
    drafts.sort(key=lambda d: (d["occurred_at"], d["txn_id"], d["event_type"].value))
    seqs: dict[str, int] = {}
    events = []
    for n, d in enumerate(drafts):
        seqs[d["card_id"]] = seqs.get(d["card_id"], 0) + 1
        events.append(CardEvent(event_id=_id(seed, customer_id, day, n), sequence=seqs[d["card_id"]], **d))
    return events


def kinesis_records(events: Iterable[CardEvent | bytes], *, start: int = 1, stream_arn: str = STREAM_ARN) -> list[dict]:
    """Lambda-shaped Kinesis records (base64 ``data``), as the event source mapping delivers them."""
    out = []
    for n, ev in enumerate(events, start):
        data = ev if isinstance(ev, bytes) else ev.to_json().encode()
        key = "poison" if isinstance(ev, bytes) else ev.card_id
        seq = f"4959{n:052d}"
        out.append({
            "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": key, "sequenceNumber": seq,
                        "data": base64.b64encode(data).decode(), "approximateArrivalTimestamp": 1767225600.0 + n},
            "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": f"shardId-000000000000:{seq}",
            "eventName": "aws:kinesis:record", "awsRegion": "us-east-1", "eventSourceARN": stream_arn,
            "invokeIdentityArn": "arn:aws:iam::123456789012:role/da-card-events",
        })
    return out


def write_jsonl(events: Iterable[CardEvent], fp) -> int:
    n = 0
    for ev in events:
        fp.write(ev.to_json() + "\n")
        n += 1
    return n


def dumps_schema() -> str:
    from chalicelib.fraud.events import json_schema

    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
