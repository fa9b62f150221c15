"""A seeded SQLite world for the card-event stream: demo customers, their history, a decision log,
a local outbox, and a processor wired like ``chalicelib.fraud.service.build_processor``."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.demo import demo_data
from chalicelib.governance.decision_log import DecisionLog, SqliteDecisionStore, SqlitePseudonymVault
from chalicelib.fraud.service import build_processor
from chalicelib.governance.metrics import GovernanceMetrics
from chalicelib.outbox import LocalOutbox
from chalicelib.storage.sqlite import SqliteStore
from chalicelib.core.settings import Settings

DAY = date(2026, 12, 1)
ANCHOR = date(2026, 12, 2)


@pytest.fixture
def world(tmp_path):
    db = tmp_path / "fraud.db"
    store = SqliteStore(db)
    store.create_schema()
    data = demo_data.build(ANCHOR)
    demo = {"demo-alice", "demo-bob"}
    for c in data.customers:
        if c.customer_id in demo:
            store.customers.put(c)
    for card in data.cards:
        if card.customer_id in demo:
            store.cards.put(card)
    store.transactions.put_many([t for t in data.transactions if t.customer_id in demo])
    log = DecisionLog(SqliteDecisionStore(db), SqlitePseudonymVault(db))
    log.create_schema()
    lines: list[str] = []
    metrics = GovernanceMetrics(sink=lines.append, enabled=True)

    class W:
        pass

    w = W()
    w.store, w.log, w.outbox, w.metrics, w.emf = store, log, tmp_path / "outbox", metrics, lines
    w.settings = Settings(sqlite_path=db, outbox_dir=w.outbox)

    def processor(**kw):
        return build_processor(w.settings, store=store, decision_log=log, notifier=LocalOutbox(w.outbox),
                               metrics=metrics, **kw)

    w.processor = processor
    yield w
    store.close()
