"""Contract of the triage records and of the sender look-up email ingestion relies on.

Runs on every backend of the ``store`` fixture (SQLite, DynamoDB client, DynamoDB resource): the
email consumer's exactly-once behaviour rests on ``create`` refusing a second record with the same
id, on any backend, even under concurrent writers.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.core.models import Customer, TriageRecord, TriageStatus
from chalicelib.storage.base import AlreadyExists
from tests.support.races import race

T0 = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=timezone.utc)


def record(rid: str = "msg-1", *, key: str = "inbound/a", customer: str | None = None, at: datetime = T0,
           **kw) -> TriageRecord:
    base = dict(
        record_id=rid,
        message_id=f"<{rid}@mail.example.com>",
        s3_bucket="raw-mail",
        s3_key=key,
        received_at=at,
        sender="a***@example.com",
        subject="Charge I did not make",
        triage={"category": "unauthorised", "redacted_text": "I did not pay [CARD ****4242]"},
        matched_customer_id=customer,
        status=TriageStatus.triaged,
        decision_id="dec_abc",
    )
    base.update(kw)
    return TriageRecord(**base)


def person(cid: str, email: str) -> Customer:
    return Customer(customer_id=cid, name="Ada", email=email, phone="+1-555-0100", date_of_birth=date(1990, 1, 1))


def test_create_then_get_round_trips_every_field(store):
    """Given a triage record / When it is created and read back / Then it is equal, field by field."""
    rec = record(customer="c-1", matched_txn_id="t-1", matched_case_id="DSP-X", reasons=["within_policy"])
    store.triage.create(rec)
    assert store.triage.get("msg-1") == rec
    assert store.triage.get("msg-unknown") is None


def test_second_create_with_same_id_is_refused_and_first_kept(store):
    """Given a stored record / When another record with the same id (the same mail under a second S3
    key) is created / Then AlreadyExists is raised and the first record is unchanged."""
    first = record(key="inbound/first")
    store.triage.create(first)
    with pytest.raises(AlreadyExists):
        store.triage.create(record(key="inbound/second", subject="changed"))
    assert store.triage.get("msg-1") == first


def test_concurrent_creates_of_one_id_store_exactly_one(store):
    """Given 8 threads creating the same record id at once / When they all run / Then exactly one
    succeeds and the other seven get AlreadyExists."""
    outcome = race(8, lambda i: store.triage.create(record(key=f"inbound/{i}", subject=f"copy {i}")))
    assert all(isinstance(exc, AlreadyExists) for exc in outcome.raised)
    assert len(outcome.returned) == 1 and len(outcome.raised) == 7
    assert store.triage.get("msg-1").subject == outcome.returned[0].subject


def test_find_by_s3_object_names_the_record_from_that_object(store):
    """Given two records from two S3 objects / When looked up by object / Then each object finds its
    own record and an unknown object finds none."""
    store.triage.create(record("m-a", key="inbound/a"))
    store.triage.create(record("m-b", key="inbound/b"))
    assert store.triage.find_by_s3_object("raw-mail", "inbound/b").record_id == "m-b"
    assert store.triage.find_by_s3_object("raw-mail", "inbound/zzz") is None
    assert store.triage.find_by_s3_object("other-bucket", "inbound/a") is None


def test_list_for_customer_is_newest_first_and_only_theirs(store):
    """Given records of two customers and an unmatched one / When listing one customer / Then only
    theirs come back, newest first."""
    store.triage.create(record("m-old", key="k1", customer="c-1", at=T0))
    store.triage.create(record("m-new", key="k2", customer="c-1", at=T0 + timedelta(hours=1)))
    store.triage.create(record("m-bob", key="k3", customer="c-2", at=T0 + timedelta(hours=2)))
    store.triage.create(record("m-none", key="k4", customer=None, at=T0 + timedelta(hours=3)))
    assert [r.record_id for r in store.triage.list_for_customer("c-1")] == ["m-new", "m-old"]
    assert store.triage.list_for_customer("c-3") == []


def test_find_by_email_ignores_case_and_surrounding_space(store):
    """Given a customer on file as Alice@Example.com / When looked up as ' alice@EXAMPLE.com ' /
    Then that customer is found; an unknown or empty address finds nobody."""
    store.customers.put(person("c-1", "Alice@Example.com"))
    store.customers.put(person("c-2", "bob@example.com"))
    assert [c.customer_id for c in store.customers.find_by_email(" alice@EXAMPLE.com ")] == ["c-1"]
    assert store.customers.find_by_email("carol@example.com") == []
    assert store.customers.find_by_email("") == []


def test_find_by_email_returns_every_customer_sharing_an_address(store):
    """Given two customers sharing one address (a joint household) / When looked up / Then both come
    back, so the caller can refuse to guess."""
    store.customers.put(person("c-2", "home@example.com"))
    store.customers.put(person("c-1", "home@example.com"))
    assert [c.customer_id for c in store.customers.find_by_email("home@example.com")] == ["c-1", "c-2"]


def test_find_by_email_follows_an_address_change(store):
    """Given a customer whose address changed / When looked up by the old and the new address /
    Then only the new one finds them (a stale index entry would link mail to the wrong person)."""
    store.customers.put(person("c-1", "old@example.com"))
    store.customers.put(person("c-1", "new@example.com"))
    assert store.customers.find_by_email("old@example.com") == []
    assert [c.customer_id for c in store.customers.find_by_email("new@example.com")] == ["c-1"]


def test_list_skipped_names_the_skipped_records_of_one_code_newest_first(store):
    """Given records skipped as not a complaint and as automated mail, and one routed to a person
    When an auditor lists the skipped ones by code / Then each code's records come back newest
    first, within the limit, and a routed record is never among them (issue 11)."""
    skipped = dict(status=TriageStatus.skipped, queue="not_a_complaint")
    store.triage.create(record("s-old", key="k1", at=T0, reasons=["not_a_complaint"], **skipped))
    store.triage.create(record("s-new", key="k2", at=T0 + timedelta(hours=1), reasons=["not_a_complaint"], **skipped))
    store.triage.create(record("s-bot", key="k3", at=T0 + timedelta(hours=2), reasons=["automated_mail"],
                               automated="mailing_list", **skipped))
    store.triage.create(record("routed", key="k4", at=T0 + timedelta(hours=3), reasons=["not_a_complaint", "known_customer"],
                               status=TriageStatus.escalated))

    assert [r.record_id for r in store.triage.list_skipped("not_a_complaint")] == ["s-new", "s-old"]
    assert [r.record_id for r in store.triage.list_skipped("not_a_complaint", limit=1)] == ["s-new"]
    [bot] = store.triage.list_skipped("automated_mail")
    assert (bot.record_id, bot.automated, bot.status) == ("s-bot", "mailing_list", TriageStatus.skipped)
    assert store.triage.list_skipped("other_product") == []
