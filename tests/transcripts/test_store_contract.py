"""The transcript store contract, on SQLite and DynamoDB alike: order, redaction, who may read
which turns of a shared session, expiry, the per-session cap and concurrent writers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.ids import session_key
from chalicelib.core.pci import find_pans
from chalicelib.transcripts.model import MAX_STORED_TURNS, TranscriptFull
from tests.support.races import race

T0 = datetime(2026, 3, 2, 9, 0, 5, 123456, tzinfo=timezone.utc)
EXP = int((T0 + timedelta(hours=72)).timestamp())
SID = session_key("lex-session-1")


def _add(store, owner, role, text, at=T0, sid=SID, exp=EXP):
    return store.append(sid, owner, [(role, text)], at, exp)


def test_turns_come_back_in_order_with_both_sides_and_times(transcripts):
    """Given a customer message and two replies written together, then a second message, When the
    session is read, Then all four come back in order with roles and their times."""
    transcripts.append(SID, "demo-alice", [("customer", "find the netflix payment"), ("assistant", "I found it."),
                                           ("assistant", "Anything else?")], T0, EXP)
    _add(transcripts, "demo-alice", "customer", "talk to an agent", at=T0 + timedelta(seconds=30))
    got = transcripts.read(SID, "demo-alice", T0 + timedelta(minutes=1))
    assert [(t.seq, t.role, t.text) for t in got] == [
        (0, "customer", "find the netflix payment"), (1, "assistant", "I found it."), (2, "assistant", "Anything else?"),
        (3, "customer", "talk to an agent")]
    assert got[0].at == T0 and got[3].at == T0 + timedelta(seconds=30)
    assert got[0].as_message() == {"role": "customer", "at": "2026-03-02T09:00:05Z", "text": "find the netflix payment"}


def test_a_card_number_never_reaches_the_store(transcripts):
    """Given a caller that forgot to redact, When a card number is appended, Then the store keeps
    only the masked form."""
    _add(transcripts, "", "customer", "my card is 4111 1111 1111 1111")
    text = transcripts.read(SID, None, T0)[0].text
    assert find_pans(text) == [] and "1111]" in text


def test_another_customer_in_the_same_session_never_reads_the_first_ones_turns(transcripts):
    """Given a session where an anonymous visitor verifies as Alice, then the session is taken over
    by Bob after an anonymous stretch, When each reads, Then Alice sees her turns and the anonymous
    ones before them; Bob sees his and the anonymous line after them; the stretch between the two
    customers is nobody's; an anonymous reader sees only what came after the last verified turn."""
    for owner, role, text in [("", "customer", "find my payment"), ("", "assistant", "Please verify first."),
                              ("demo-alice", "customer", "code 123456"), ("demo-alice", "assistant", "Netflix 15.49"),
                              ("", "customer", "who is this"), ("demo-bob", "customer", "I am Bob"),
                              ("demo-bob", "assistant", "Hello Bob"), ("", "customer", "hello?")]:
        _add(transcripts, owner, role, text)
    texts = lambda reader: [t.text for t in transcripts.read(SID, reader, T0)]  # noqa: E731
    assert texts("demo-alice") == ["find my payment", "Please verify first.", "code 123456", "Netflix 15.49"]
    assert texts("demo-bob") == ["I am Bob", "Hello Bob", "hello?"]
    assert texts(None) == ["hello?"]
    assert texts("demo-carol") == []


def test_sessions_are_apart_and_expired_turns_are_gone(transcripts):
    """Given turns in two sessions, one of them written with a short expiry, When read after it,
    Then each session has only its own turns and the expired one is not returned."""
    other = session_key("lex-session-2")
    _add(transcripts, "demo-alice", "customer", "kept")
    _add(transcripts, "demo-alice", "customer", "short-lived", exp=int((T0 + timedelta(minutes=5)).timestamp()))
    _add(transcripts, "demo-alice", "customer", "elsewhere", sid=other)
    later = T0 + timedelta(minutes=10)
    assert [t.text for t in transcripts.read(SID, "demo-alice", later)] == ["kept"]
    assert [t.text for t in transcripts.read(other, "demo-alice", later)] == ["elsewhere"]
    assert transcripts.read(session_key("never-used"), "demo-alice", later) == []


def test_a_session_stops_growing_at_its_cap(transcripts):
    """Given a session filled to its cap, When another turn is appended, Then TranscriptFull is
    raised and nothing stored before is lost."""
    batch = [("customer", "x")] * 50
    for i in range(MAX_STORED_TURNS // 50):
        transcripts.append(SID, "", batch, T0, EXP)
    with pytest.raises(TranscriptFull):
        _add(transcripts, "", "customer", "one more")
    assert len(transcripts.read(SID, None, T0)) == MAX_STORED_TURNS


def test_concurrent_writers_on_one_session_lose_nothing(transcripts):
    """Given eight writers appending to one session at once, When all are done, Then eight turns
    are stored with distinct, gapless sequence numbers."""
    result = race(8, lambda i: _add(transcripts, "demo-alice", "customer", f"message {i}"))
    assert result.raised == []
    got = transcripts.read(SID, "demo-alice", T0)
    assert sorted(t.seq for t in got) == list(range(8))
    assert sorted(t.text for t in got) == sorted(f"message {i}" for i in range(8))
