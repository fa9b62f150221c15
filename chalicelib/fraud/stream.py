"""Applies card events to transactions: once per event, in order per transaction, poison aside.

Delivery is at least once (Kinesis redelivers a batch from the first failed record, a Lambda can
time out after writing), and one card's events can arrive out of order (a producer retry, a
settlement file racing the authorisation feed). So:

- **once**: each event runs inside :class:`~chalicelib.storage.idempotency.IdempotencyGuard` keyed by its
  ``event_id`` (a conditional write); a redelivery gets the stored result and changes nothing;
- **in order**: a transaction's state is set only by an event whose order key
  ``(sequence, occurred_at)`` is newer than the one that set it (:mod:`chalicelib.fraud.ledger`).
  A settlement that arrives before its authorisation creates the payment as posted, and the late
  authorisation only fills in what was missing; a declined payment never becomes posted;
- **poison aside**: a record that can never succeed (:class:`PoisonRecord`) is quarantined and
  *not* reported as a failure, so it cannot block the shard; only retryable failures (storage
  errors, another worker holding the event) go back in ``batchItemFailures`` (the event source
  mapping needs ``FunctionResponseTypes: [ReportBatchItemFailures]``).

After an authorisation is applied, ``on_authorisation`` (the fraud service) scores it inside the
same idempotent unit, so a replay neither scores nor notifies twice.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from chalicelib.fraud.events import CardEvent, EventType, PoisonRecord, decode_kinesis_data, parse_event
from chalicelib.fraud.ledger import EventLedger, quarantine_record
from chalicelib.storage.idempotency import DuplicateInProgress, IdempotencyGuard, key_from
from chalicelib.payments.merchants import find_merchant
from chalicelib.core.models import Card, Transaction, TxnStatus

log = logging.getLogger(__name__)

STATUS_BY_EVENT = {
    EventType.authorisation: TxnStatus.pending,
    EventType.decline: TxnStatus.declined,
    EventType.settlement: TxnStatus.posted,
    EventType.reversal: TxnStatus.reversed,
    EventType.refund: TxnStatus.posted,
}
# Kept for 8 days: longer than the stream's retention (7 days max for replays we run ourselves).
APPLIED_TTL_S = 8 * 24 * 3600


@dataclass(frozen=True)
class Applied:
    event_id: str
    txn_id: str
    outcome: str  # created | updated | stale | conflict
    status: str
    fraud: dict[str, Any] | None = None  # what the fraud service decided, if it ran


@dataclass
class BatchReport:
    applied: list[Applied] = field(default_factory=list)
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (record key, code)
    failures: list[str] = field(default_factory=list)  # sequence numbers to retry

    def response(self) -> dict[str, list[dict[str, str]]]:
        """The Lambda partial-batch response for Kinesis."""
        return {"batchItemFailures": [{"itemIdentifier": s} for s in self.failures]}


class CardEventProcessor:
    def __init__(
        self,
        store,
        ledger: EventLedger,
        guard: IdempotencyGuard,
        *,
        on_authorisation: Callable[[Transaction, CardEvent], dict[str, Any] | None] | None = None,
        unit=None,
        effects: tuple[Any, Any] | None = None,
        observer=None,
        after_commit: Callable[[], Any] | None = None,
    ):
        self.store = store
        # Called after each committed batch (the rollout's deferred guard observations).
        self.after_commit = after_commit
        self.ledger = ledger
        self.guard = guard
        self.on_authorisation = on_authorisation
        # SQLite: one transaction per batch (chalicelib.fraud.batch); effects = (decision log, notifier)
        # that carry out what the batch deferred, once it is committed.
        self.unit = unit
        self.effects = effects
        # Told of each batch and each written payment (the fraud service's history cache).
        self.observer = observer
        self._cards: dict[str, Card] = {}  # card_id -> Card (cards never change owner or number)

    # ---- one event -------------------------------------------------------------------------

    def process(self, event: CardEvent) -> Applied:
        """Apply ``event`` exactly once; replays return the first application's result."""
        if self.unit is not None:
            with self.unit.batch():
                applied = self._process_in_batch(event)
            self.drain()
        else:
            applied = self._process_guarded(event)
        self._end_batch()
        return applied

    def _process_guarded(self, event: CardEvent) -> Applied:
        return Applied(**self.guard.run(self.key(event), self._apply, event))

    def _end_batch(self) -> None:
        end = getattr(self.observer, "end_batch", None)
        if end is not None:
            end()  # the batch's aggregated metrics

    @staticmethod
    def key(event: CardEvent) -> str:
        return f"card_event#{key_from(event.event_id)}"

    def _process_in_batch(self, event: CardEvent) -> Applied:
        key = self.key(event)
        with self.unit.event():
            data = self.unit.stored_result(key)
            if data is None:
                data = self.unit.complete(key, self._apply(event), APPLIED_TTL_S)
        return Applied(**data)

    def drain(self) -> int:
        """Carry out the effects a committed batch deferred (and any a crash left behind)."""
        if self.after_commit is not None:
            self.after_commit()
        if self.unit is None or self.effects is None:
            return 0
        return self.unit.drain(*self.effects)

    def _card(self, event: CardEvent) -> Card:
        card = self._cards.get(event.card_id)
        if card is None:
            for c in self.store.cards.list_for_customer(event.customer_id):
                self._cards[c.card_id] = c
            card = self._cards.get(event.card_id)
        if card is None or card.customer_id != event.customer_id:
            raise PoisonRecord("E_UNKNOWN_CARD", f"card {event.card_id} is not a card of {event.customer_id}")
        return card

    def _apply(self, event: CardEvent) -> dict[str, Any]:
        card = self._card(event)
        current = self.store.transactions.get(event.customer_id, event.txn_id)
        newer = self.ledger.advance(event.txn_id, event.order_key)
        if current is None:
            txn = self._new_transaction(event, card.last4)
            outcome = "created"
        elif not newer:
            txn, outcome = self._fill_in(current, event), "stale"
        elif current.status is TxnStatus.declined and event.event_type is not EventType.decline:
            txn, outcome = current, "conflict"  # a declined payment never settles
            log.warning(json.dumps({"event": "card_event_conflict", "event_id": event.event_id,
                                    "txn_id": event.txn_id, "event_type": event.event_type.value}))
        else:
            txn, outcome = self._transition(current, event), "updated"
        if txn != current:
            self.store.transactions.put(txn)
            if self.observer is not None:
                self.observer.observe(txn)
        fraud = None
        if (self.on_authorisation is not None and event.event_type is EventType.authorisation
                and outcome == "created"):
            fraud = self.on_authorisation(txn, event)
        # A plain dict, not dataclasses.asdict: that deep-copies the fraud result of every event (a
        # tenth of the stream's CPU in the profile) only for it to be serialised once.
        return {"event_id": event.event_id, "txn_id": txn.txn_id, "outcome": outcome, "status": txn.status.value,
                "fraud": fraud}

    @staticmethod
    def _new_transaction(event: CardEvent, last4: str) -> Transaction:
        merchant = find_merchant(event.merchant_descriptor)
        refund = event.event_type is EventType.refund
        status = STATUS_BY_EVENT[event.event_type]
        return Transaction(
            txn_id=event.txn_id,
            customer_id=event.customer_id,
            card_id=event.card_id,
            card_last4=last4,
            descriptor=event.merchant_descriptor,
            merchant_name=event.merchant_name or (merchant.name if merchant else event.merchant_descriptor.title()),
            mcc=event.mcc,
            amount_minor=-event.amount_minor if refund else event.amount_minor,
            currency=event.currency,
            status=status,
            occurred_at=event.occurred_at,
            posted_at=event.occurred_at if status is TxnStatus.posted else None,
            country=event.country,
            channel=event.channel,
        )

    @staticmethod
    def _transition(txn: Transaction, event: CardEvent) -> Transaction:
        status = STATUS_BY_EVENT[event.event_type]
        update: dict[str, Any] = {"status": status}
        if status is TxnStatus.posted:
            update["posted_at"] = event.occurred_at
            update["amount_minor"] = -event.amount_minor if event.event_type is EventType.refund else event.amount_minor
        return txn.model_copy(update=update)

    @staticmethod
    def _fill_in(txn: Transaction, event: CardEvent) -> Transaction:
        """A stale event changes no state, but an earlier authorisation knows when it all began."""
        if event.event_type is EventType.authorisation and event.occurred_at < txn.occurred_at:
            return txn.model_copy(update={"occurred_at": event.occurred_at})
        return txn

    # ---- a Kinesis batch -------------------------------------------------------------------

    def handle_records(self, records: Iterable[dict[str, Any]]) -> BatchReport:
        """Raw Lambda Kinesis records (``event["Records"]``) → report with the partial-batch response."""
        report = BatchReport()
        if self.observer is not None:
            self.observer.begin_batch()
        if self.unit is None:
            self._handle(records, report, self._process_guarded)
            self._end_batch()
            return report
        self.drain()  # a previous invocation may have died between its commit and its effects
        with self.unit.batch():
            self._handle(records, report, self._process_in_batch)
        self.drain()
        self._end_batch()
        return report

    def _handle(self, records: Iterable[dict[str, Any]], report: BatchReport,
                process: Callable[[CardEvent], Applied]) -> None:
        for record in records:
            # A record of the wrong shape decodes as empty data: quarantined (E_JSON), not a crash.
            record = record if isinstance(record, dict) else {}
            kinesis = record.get("kinesis") if isinstance(record.get("kinesis"), dict) else {}
            seq = str(kinesis.get("sequenceNumber", ""))
            raw: bytes | str = kinesis.get("data", "")
            try:
                raw = decode_kinesis_data(kinesis.get("data", ""))
                report.applied.append(process(parse_event(raw)))
            except PoisonRecord as exc:
                qkey = f"{record.get('eventSourceARN', '')}#{seq}"
                try:
                    self.ledger.quarantine(quarantine_record(qkey, exc.code, exc.detail, raw))
                except Exception:
                    log.exception("quarantine write failed; record will be retried")
                    report.failures.append(seq)
                    continue
                report.quarantined.append((qkey, exc.code))
                log.warning(json.dumps({"event": "card_event_quarantined", "code": exc.code, "sequence": seq}))
            except DuplicateInProgress:
                report.failures.append(seq)
            except Exception:
                log.exception("card event failed; will be retried")
                report.failures.append(seq)

