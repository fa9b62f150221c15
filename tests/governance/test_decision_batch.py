"""Batched appends (the card-event stream records a Kinesis batch's decisions at once): the same
contract on SQLite and on DynamoDB (moto). One write per ``store.max_batch`` records, all or none,
in order, one anchor write, and a batch re-run after a failure records exactly what is missing."""
from __future__ import annotations

import threading

import pytest
from hypothesis import given, strategies as st

from chalicelib.core.pci import find_sensitive
from chalicelib.governance.decision_log import (DuplicateDecisionId, PiiRejected, SqliteDecisionStore,
                                                contains_pan)
from tests.support.races import race


class CountingAnchor:
    """The log's own anchor, counting its writes."""

    def __init__(self, inner):
        self.inner, self.writes = inner, []

    def read(self):
        return self.inner.read()

    def advance(self, seq, hash):
        self.writes.append(seq)
        self.inner.advance(seq, hash)

    def describe(self):
        return self.inner.describe()


def bodies(n, start=0, customer="cust-1"):
    return [dict(action="fraud_action", outcome="hold", customer_id=customer, decision_id=f"dec_batch_{i:04d}",
                 reasons=["UNUSUAL_AMOUNT"], subject={"txn_id": f"txn-{i}"}) for i in range(start, start + n)]


def test_a_batch_is_chained_in_order_and_anchored_once(decision_log):
    """Given a log with one decision / When 7 more are recorded as one batch / Then they follow it in the
    given order, link to each other, verify against the anchor, and the anchor was written once, at the last."""
    decision_log.record(**bodies(1, start=100)[0])
    decision_log.anchor = anchor = CountingAnchor(decision_log.anchor)
    stored = decision_log.record_many(bodies(7))
    assert [d.seq for d in stored] == list(range(2, 9))
    assert [d.decision_id for d in stored] == [f"dec_batch_{i:04d}" for i in range(7)]
    assert all(b.prev_hash == a.hash for a, b in zip(stored, stored[1:]))
    assert anchor.writes == [8]
    assert decision_log.verify(anchored=anchor.read()).ok


def test_a_batch_larger_than_one_write_is_cut_into_writes_and_still_one_chain(decision_log, monkeypatch):
    """Given more decisions than the backend writes at once (DynamoDB: 50 a transaction of 100 actions;
    SQLite: 500) / When they are recorded as one batch / Then they take two writes, all are in the chain,
    in order, and it verifies."""
    store = decision_log.store
    writes = []
    real = store.try_append_many
    monkeypatch.setattr(store, "try_append_many", lambda rows: writes.append(len(rows)) or real(rows))
    n = store.max_batch + 3
    stored = decision_log.record_many(bodies(n))
    assert writes == [store.max_batch, 3]
    assert [d.seq for d in stored] == list(range(1, n + 1))
    assert decision_log.verify(anchored=decision_log.anchor.read()).ok


def test_re_running_a_batch_records_only_what_is_missing(decision_log):
    """Given a batch of 5 of which 2 were recorded before (a drain cut short, a redelivered batch) / When the
    whole batch is recorded again, with one decision listed twice / Then each is in the log once and the
    stored records come back for the ones already there."""
    first = decision_log.record_many(bodies(2))
    again = decision_log.record_many(bodies(5) + bodies(1, start=3))
    assert [d.hash for d in again[:2]] == [d.hash for d in first]
    assert again[3].hash == again[5].hash
    ids = [d.decision_id for d in decision_log.iter_decisions()]
    assert ids == [f"dec_batch_{i:04d}" for i in range(5)]
    assert decision_log.verify().ok


def test_a_card_number_anywhere_in_the_batch_writes_none_of_it(decision_log):
    """Given a batch whose third decision carries a card number / When it is recorded / Then it is refused,
    naming the field, and none of the batch is in the log."""
    batch = bodies(4)
    batch[2]["subject"] = {"note": "card 4111 1111 1111 1111"}
    with pytest.raises(PiiRejected, match="subject"):
        decision_log.record_many(batch)
    assert list(decision_log.iter_decisions()) == []


def rows_for(decision_log, n, head_seq=0):
    """Chained rows as the log would write them after ``head_seq``."""
    out = []
    for i, d in enumerate(decision_log.build(**b) for b in bodies(n, start=500)):
        out.append((head_seq + i + 1, d.decision_id, "2026-12-01T00:00:00.000000Z", None, f"{i:064x}", "{}"))
    return out


def test_the_store_writes_a_batch_whole_or_not_at_all(decision_log):
    """Given one stored record / When a batch is offered whose second row takes its seq, then one whose second
    row repeats its id / Then the first is refused (False: re-read the head), the second raises
    DuplicateDecisionId naming that id, and neither left any of its rows behind."""
    store = decision_log.store
    decision_log.record(**bodies(1, start=900)[0])
    rows = rows_for(decision_log, 3, head_seq=1)
    taken_seq = [rows[0], (1,) + rows[1][1:], rows[2]]
    assert store.try_append_many(taken_seq) is False
    taken_id = [rows[0], rows[1][:1] + ("dec_batch_0900",) + rows[1][2:], rows[2]]
    with pytest.raises(DuplicateDecisionId) as exc:
        store.try_append_many(taken_id)
    assert exc.value.args[0] == "dec_batch_0900"
    assert [r.seq for r in store.records()] == [1]
    assert store.try_append_many(rows) is True
    assert [r.seq for r in store.records()] == [1, 2, 3, 4]


def test_batches_from_concurrent_writers_never_fork_the_chain(decision_log):
    """Given 4 threads each recording 3 batches of 5 / Then 60 records, contiguous seqs, an intact chain."""
    def worker(n):
        for b in range(3):
            decision_log.record_many(bodies(5, start=n * 100 + b * 10, customer=f"c{n}"))

    assert not race(4, worker).raised
    result = decision_log.verify()
    assert result.ok and result.count == 60
    assert [d.seq for d in decision_log.iter_decisions()] == list(range(1, 61))


def test_the_sqlite_store_keeps_one_connection_per_thread_in_wal_with_full_sync(tmp_path):
    """Given the SQLite decision store / When it is used twice on one thread and once on another / Then the
    thread's connection is reused (no new connection, no journal switch per call), the other thread has its
    own, and both are in WAL with synchronous FULL (a decision is on disk before the anchor names it)."""
    store = SqliteDecisionStore(tmp_path / "log.db")
    store.create_schema()
    mine = store._conns.get()
    assert store._conns.get() is mine

    def settings(conn):
        return conn.execute("PRAGMA journal_mode").fetchone()[0], conn.execute("PRAGMA synchronous").fetchone()[0]

    other = []
    t = threading.Thread(target=lambda: other.append((store._conns.get(), settings(store._conns.get()))))
    t.start()
    t.join()
    assert other[0][0] is not mine
    assert settings(mine) == other[0][1] == ("wal", 2)
    store.close()


@given(st.text(alphabet=st.characters(max_codepoint=127, blacklist_characters="0123456789"), max_size=80))
def test_ascii_without_a_digit_holds_nothing_the_finder_would_refuse(text):
    """Given any ASCII text without a digit (the guard's shortcut) / When the finder searches it anyway /
    Then it finds nothing: the shortcut refuses exactly what the full search refuses."""
    assert not find_sensitive(text) and not contains_pan(text)


@pytest.mark.parametrize("text", [
    "⑱⑳⑩⑯⑳⑲⑮⑳",  # circled numbers: no character is a digit, NFKC reads 1820101620191520 (Luhn-valid)
    "４１１１ １１１１ １１１１ １１１１",  # full-width digits
    "card 4111\u200b1111 1111 1111",  # a zero-width space inside
])
def test_non_ascii_text_is_always_searched(text, decision_log):
    """Given a card number written without one ASCII digit, or hidden by an invisible character / When it
    is in a decision / Then the guard refuses it like the finder does."""
    assert contains_pan(text) and find_sensitive(text)
    with pytest.raises(PiiRejected):
        decision_log.record(action="fraud_action", outcome="hold", explanation=text)
