"""The recorder the hook calls: redacts before the store, splits a turn whose speaker was verified
mid-turn, and never fails a turn because the store did."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.ids import session_key
from chalicelib.transcripts.model import TranscriptRecorder
from chalicelib.transcripts.store_sqlite import SqliteTranscriptStore

T0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
SID = session_key("s-1")


@pytest.fixture
def store(tmp_path):
    s = SqliteTranscriptStore(tmp_path / "t.db")
    s.create_schema()
    return s


def _recorder(store, redact=lambda t: t.replace("07/14/1985", "[DOB]")):
    return TranscriptRecorder(store, redact, lambda: T0, timedelta(hours=1))


def test_the_redactor_runs_before_the_store_sees_the_text(store):
    """Given a redactor for dates of birth, When a turn carrying one is recorded, Then the stored
    text holds the token, never the date."""
    _recorder(store).exchange(SID, None, "born 07/14/1985", None, ["Thanks."])
    assert [t.text for t in store.read(SID, None, T0)] == ["born [DOB]", "Thanks."]


def test_a_step_up_inside_the_turn_gives_the_reply_to_the_verified_customer(store):
    """Given an anonymous message answered after a step-up verified Alice, When the turn is recorded,
    Then the message stays anonymous and the reply is Alice's: an anonymous reader later in the
    session does not get the reply that carried her account data."""
    _recorder(store).exchange(SID, None, "123456", "demo-alice", ["Verified. Netflix $15.49 on 24 Oct."])
    assert [(t.owner, t.role) for t in store.read(SID, "demo-alice", T0)] == [("", "customer"), ("demo-alice", "assistant")]
    assert [t.text for t in store.read(SID, None, T0)] == []


def test_a_failing_store_is_logged_with_a_code_and_the_turn_goes_on(store, caplog):
    """Given a store that raises, When a turn is recorded and the conversation read, Then nothing
    raises, nothing is returned, and the warning carries the stable code."""
    class Broken:
        def append(self, *a, **k):
            raise OSError("disk gone")

        def read(self, *a, **k):
            raise OSError("disk gone")

    rec = _recorder(Broken())
    with caplog.at_level(logging.WARNING, logger="dispute_assistant.transcripts"):
        assert rec.exchange(SID, None, "hello", None, ["Hi"]) == 0
        assert rec.conversation(SID, None) == []
    assert [r.error_code for r in caplog.records] == ["transcript_store_failed", "transcript_store_failed"]


def test_a_bad_role_or_a_non_positive_retention_is_refused(store):
    """Given a role that is neither customer nor assistant, or a zero retention, Then a clear error."""
    from chalicelib.transcripts.model import clean_entries

    with pytest.raises(ValueError, match="role"):
        clean_entries([("agent", "hi")])
    with pytest.raises(ValueError, match="ttl"):
        TranscriptRecorder(store, str, lambda: T0, timedelta(0))
