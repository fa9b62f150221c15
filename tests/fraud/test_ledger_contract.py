"""The card-event ledger (order keys and quarantine): one contract, SQLite and DynamoDB (moto)."""
from __future__ import annotations

import pytest

from chalicelib.fraud.ledger import DynamoEventLedger, SqliteEventLedger, quarantine_record
from tests.support.twins import store_twin


@pytest.fixture(params=["sqlite", "dynamodb"])
def ledger(request, tmp_path):
    yield from store_twin(request, tmp_path, lambda d: SqliteEventLedger(d / "ledger.db"), DynamoEventLedger, "t-idem")


def test_order_keys_only_move_forward(ledger):
    """Given a transaction's order key / When an older, an equal and a newer key arrive / Then the older is
    refused, the equal (a retry) and the newer are taken."""
    assert ledger.advance("txn-1", (3, "2026-12-01T10:00:00.000000Z")) is True
    assert ledger.advance("txn-1", (2, "2026-12-01T11:00:00.000000Z")) is False
    assert ledger.advance("txn-1", (3, "2026-12-01T10:00:00.000000Z")) is True
    assert ledger.advance("txn-1", (3, "2026-12-01T10:00:01.000000Z")) is True
    assert ledger.order_key("txn-1") == (3, "2026-12-01T10:00:01.000000Z")
    assert ledger.order_key("txn-2") is None


def test_a_poison_record_is_kept_without_its_card_number(ledger):
    """Given a poison record carrying a card number / When it is quarantined twice / Then it is kept once,
    with its code, and its excerpt has no card number."""
    rec = quarantine_record("arn#49", "E_PAN_PRESENT", "a full card number", b'{"pan": "4111 1111 1111 1111"}')
    ledger.quarantine(rec)
    ledger.quarantine(rec)
    [kept] = ledger.quarantined()
    assert kept.code == "E_PAN_PRESENT" and "4111 1111 1111 1111" not in kept.excerpt


def test_a_reset_forgets_order_keys_and_quarantine_only(ledger):
    """Given order keys and a quarantined record / When the ledger is reset (a demo reseeding) / Then both are
    gone, a replayed event's key is taken again, and (DynamoDB) the idempotency table's other records stay."""
    if isinstance(ledger, DynamoEventLedger):  # its table is the idempotency table: others' records live there
        ledger.client.put_item(TableName="t-idem", Item={"id": {"S": "email_followup#r1"}, "status": {"S": "COMPLETED"}})
    ledger.advance("txn-1", (9, "2026-12-01T10:00:00.000000Z"))
    ledger.quarantine(quarantine_record("arn#1", "E_JSON", "not JSON", b"{"))
    ledger.reset()
    assert ledger.order_key("txn-1") is None and ledger.quarantined() == []
    assert ledger.advance("txn-1", (1, "2026-12-01T09:00:00.000000Z")) is True
    if isinstance(ledger, DynamoEventLedger):
        assert ledger.client.get_item(TableName="t-idem", Key={"id": {"S": "email_followup#r1"}}).get("Item")
