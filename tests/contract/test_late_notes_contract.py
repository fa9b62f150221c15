"""One contract for the late-turn note store, run on SQLite and on DynamoDB (moto): what an overrun turn did is
kept across containers, told once, in order, never after it expired, never to another session, never with a PAN."""
from __future__ import annotations

import threading

import pytest

from chalicelib.storage.late_notes import (
    DynamoLateNoteStore,
    LateNoteError,
    LateNotes,
    SqliteLateNoteStore,
)
from tests.support.aws import REGION, atomic_requests, use_fake_credentials

NOW = 1_800_000_000.0
TTL = 3600


@pytest.fixture(params=["sqlite", "dynamodb"])
def make_store(request, tmp_path, monkeypatch):
    """A factory of store handles on ONE backing store: each call is another container's view of it."""
    if request.param == "sqlite":
        db = tmp_path / "late.db"

        def sqlite_store():
            s = SqliteLateNoteStore(db)
            s.create_schema()
            return s

        yield sqlite_store
        return
    import boto3
    from moto import mock_aws

    use_fake_credentials(monkeypatch)
    with mock_aws():
        def dynamo_store():
            s = DynamoLateNoteStore(atomic_requests(boto3.client("dynamodb", region_name=REGION)), "t-late-notes")
            s.create_schema()
            return s

        yield dynamo_store


def note(text: str, failed: bool = False) -> dict:
    return {"messages": [text], "session": {"k": text}, "failed": failed}


def test_notes_are_told_once_in_order(make_store):
    """Given two notes posted for a session / When it is taken twice / Then the first take returns both oldest
    first and the second returns nothing."""
    s = make_store()
    s.append("ses-a", note("one"), NOW, int(NOW + TTL))
    s.append("ses-a", note("two"), NOW + 0.001, int(NOW + TTL))
    assert [n["messages"] for n in s.take("ses-a", NOW + 1)] == [["one"], ["two"]]
    assert s.take("ses-a", NOW + 2) == []


def test_a_note_outlives_the_container_that_wrote_it(make_store):
    """Given a note appended through one store handle (a container later recycled) / When a fresh handle on the same
    store takes the session's notes / Then it gets the note."""
    make_store().append("ses-a", note("filed DSP-1"), NOW, int(NOW + TTL))
    assert make_store().take("ses-a", NOW + 5) == [note("filed DSP-1")]


def test_sessions_do_not_see_each_others_notes(make_store):
    """Given notes for sessions a and b / When b's are taken / Then only b's come back and a's stay."""
    s = make_store()
    s.append("ses-a", note("for a"), NOW, int(NOW + TTL))
    s.append("ses-b", note("for b"), NOW, int(NOW + TTL))
    assert s.take("ses-b", NOW) == [note("for b")]
    assert s.peek("ses-a", NOW) == [note("for a")]


def test_an_expired_note_is_never_told(make_store):
    """Given a note whose expiry has passed / When the session's notes are peeked or taken / Then nothing comes back."""
    s = make_store()
    s.append("ses-a", note("old"), NOW, int(NOW + 10))
    assert s.peek("ses-a", NOW + 11) == []
    assert s.take("ses-a", NOW + 11) == []
    assert s.take("ses-a", NOW + 5) == []  # and it is gone, not merely hidden


def test_peek_leaves_the_note_for_the_next_turn(make_store):
    """Given a note / When it is peeked / Then a later take still returns it."""
    s = make_store()
    s.append("ses-a", note("x"), NOW, int(NOW + TTL))
    assert s.peek("ses-a", NOW) == [note("x")]
    assert s.take("ses-a", NOW) == [note("x")]


def test_concurrent_posts_and_takes_lose_and_repeat_nothing(make_store):
    """Given 4 writer threads posting 10 notes each for one session while 2 reader threads take repeatedly (two
    late turns and two next turns in several containers) / When all are done and a last take runs / Then every note
    was handed to exactly one reader."""
    posted = [f"w{w}-{i}" for w in range(4) for i in range(10)]
    told: list[str] = []
    told_lock = threading.Lock()
    stop = threading.Event()

    def writer(w):
        s = make_store()
        for i in range(10):
            s.append("ses-race", note(f"w{w}-{i}"), NOW + i, int(NOW + TTL))

    def reader():
        s = make_store()
        while not stop.is_set():
            got = s.take("ses-race", NOW + 20)
            with told_lock:
                told.extend(n["messages"][0] for n in got)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(30)
    stop.set()
    for t in readers:
        t.join(30)
    told.extend(n["messages"][0] for n in make_store().take("ses-race", NOW + 20))
    assert sorted(told) == sorted(posted)


def test_a_card_number_in_a_note_is_masked_before_it_is_stored(make_store):
    """Given an overrun turn whose reply echoed a card number / When its note is stored and taken / Then the stored
    note carries no full card number."""
    s = make_store()
    s.append("ses-a", note("card 4111 1111 1111 1111 blocked"), NOW, int(NOW + TTL))
    (got,) = s.take("ses-a", NOW)
    assert "4111 1111 1111 1111" not in str(got) and "1111" in got["messages"][0]


@pytest.mark.parametrize("session", ["", "x" * 201])
def test_a_bad_session_key_is_a_clear_error(make_store, session):
    """Given an empty or oversized session key / When a note is appended or taken / Then LateNoteError with code
    late_note_invalid, and nothing is stored."""
    s = make_store()
    with pytest.raises(LateNoteError) as err:
        s.append(session, note("x"), NOW, int(NOW + TTL))
    assert err.value.code == "late_note_invalid"
    with pytest.raises(LateNoteError):
        s.take(session, NOW)


def test_a_note_that_is_not_json_is_a_clear_error(make_store):
    """Given a note holding something JSON cannot carry / When it is appended / Then LateNoteError, nothing stored."""
    s = make_store()
    with pytest.raises(LateNoteError):
        s.append("ses-a", {"messages": [float("nan")]}, NOW, int(NOW + TTL))
    assert s.peek("ses-a", NOW) == []


def test_the_mailbox_posts_and_takes_with_its_ttl(make_store):
    """Given the hook's mailbox over the store with a 60 s TTL and a clock / When a failed turn is posted / Then
    the next take within 60 s returns it marked failed, and a note posted then read after 61 s is not told."""
    clock = [NOW]
    box = LateNotes(make_store(), ttl_s=60, clock=lambda: clock[0])
    box.post("ses-a", [], None, failed=True)
    assert box.pending("ses-a") == [{"messages": [], "session": {}, "failed": True}]
    assert box.take("ses-a") == [{"messages": [], "session": {}, "failed": True}]
    box.post("ses-a", ["filed"], {"a": "b"}, failed=False)
    clock[0] += 61
    assert box.take("ses-a") == []
