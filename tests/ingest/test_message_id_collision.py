"""A Message-ID names a mail but does not prove it: a different email reusing an earlier Message-ID is
stored (and flagged), never acknowledged and dropped as a duplicate; the same mail is still one record."""
from __future__ import annotations

import logging

from chalicelib.core.models import TriageRecord, TriageStatus
from chalicelib.ingest.message_identity import MESSAGE_ID_COLLISION
from chalicelib.ingest.records import record_id_for
from tests.ingest.test_email_ingest import mail, put_and_record

LEGAL = "I am instructing my solicitor to start proceedings over the money you took from my account."


def handle(world, key, raw, sqs_id):
    return world.service.handle_sqs_record(put_and_record(world, key, raw, sqs_id)).objects[0]


def test_different_sender_reusing_a_message_id_is_stored_and_flagged(world, caplog):
    """Given a stored mail / When a different sender's legal threat arrives with the same Message-ID / Then it is
    a new record with its own decision, flagged with the earlier record's id, and logged with a stable code."""
    first = handle(world, "inbound/one", mail(), "sqs-1")
    with caplog.at_level(logging.WARNING):
        second = handle(world, "inbound/two", mail(sender="mallory@other.example", subject="Legal action",
                                                   body=LEGAL), "sqs-2")
    assert second.record_id != first.record_id and not second.duplicate
    stored = world.store.triage.get(second.record_id)
    assert stored is not None and stored.message_id_collision_with == first.record_id
    assert stored.sender == "m***@other.example"
    assert world.store.triage.get(first.record_id).message_id_collision_with is None
    assert len(world.decisions()) == 2
    assert any(MESSAGE_ID_COLLISION in r.getMessage() and second.record_id in r.getMessage() for r in caplog.records)


def test_whitespace_variant_of_the_id_with_other_content_is_stored(sqlite_world):
    """Given a stored mail / When a different mail arrives whose Message-ID differs only by whitespace / Then it is
    stored as a new, flagged record."""
    w = sqlite_world
    first = handle(w, "inbound/one", mail(message_id="<complaint-1@mail.example.com>"), "s1")
    second = handle(w, "inbound/two", mail(message_id="  <complaint-1@mail.example.com >", body=LEGAL), "s2")
    assert second.record_id != first.record_id and not second.duplicate
    assert w.store.triage.get(second.record_id).message_id_collision_with == first.record_id


def test_whitespace_and_case_variant_of_the_same_mail_is_a_duplicate(sqlite_world):
    """Given a stored mail / When the same mail arrives again with its Message-ID in other case and spacing
    (and a different transport To) / Then it is the same record, a duplicate, with one decision."""
    w = sqlite_world
    raw = mail(message_id="<Complaint-1@Mail.Example.com>")
    first = handle(w, "inbound/one", raw, "s1")
    again = mail(message_id=" <complaint-1@mail.example.com> ").replace(b"To: disputes@bank.example",
                                                                       b"To: complaints@bank.example")
    second = handle(w, "inbound/two", again, "s2")
    assert second.record_id == first.record_id and second.duplicate
    assert len(w.decisions()) == 1 and len(w.triage_calls) == 1


def test_a_redelivered_colliding_mail_is_one_record(sqlite_world):
    """Given a colliding mail already stored / When the same colliding mail arrives again under another key / Then
    it is a duplicate of its own record, not a third record."""
    w = sqlite_world
    handle(w, "inbound/one", mail(), "s1")
    other = mail(sender="mallory@other.example", body=LEGAL)
    second = handle(w, "inbound/two", other, "s2")
    third = handle(w, "inbound/three", other, "s3")
    assert third.record_id == second.record_id and third.duplicate
    assert len(w.decisions()) == 2


def test_a_record_stored_before_digests_never_absorbs_a_later_mail(sqlite_world):
    """Given a record stored before content digests existed (no digest) / When a mail with its Message-ID
    arrives / Then it is stored as a new, flagged record (never dropped on an unprovable match)."""
    w = sqlite_world
    first_id = record_id_for("<complaint-1@mail.example.com>", "", "")
    w.store.triage.create(TriageRecord(record_id=first_id, message_id="<complaint-1@mail.example.com>",
                                       s3_bucket="da-raw-mail", s3_key="inbound/old", status=TriageStatus.triaged))
    second = handle(w, "inbound/two", mail(), "s2")
    assert second.record_id != first_id and not second.duplicate
    assert w.store.triage.get(second.record_id).message_id_collision_with == first_id
