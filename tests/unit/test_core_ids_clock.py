"""One id derivation and one clock for the whole house (issue 9)."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.core.clock import sortable_utc, utcnow
from chalicelib.core.ids import derive_decision_id, new_decision_id

_ID = re.compile(r"^dec-[0-9a-f]{24}$")


def test_derived_decision_ids_keep_the_stored_format():
    """Given the parts of a chat decision / When the id is derived / Then it is the dec-+hex id that
    chat stored before the derivations were merged (stored ids and golden outputs keep their meaning)."""
    parts = ("file_dispute", "cust-1", "txn-1", "fraud", "4200")
    legacy = "dec-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]
    assert derive_decision_id(*parts) == legacy


def test_derived_ids_are_stable_per_subject_and_distinct_across_subjects():
    """Given the same parts twice, and parts differing in one place / Then one id, then another."""
    assert derive_decision_id("email", "route_message", "r1") == derive_decision_id("email", "route_message", "r1")
    assert derive_decision_id("email", "route_message", "r1") != derive_decision_id("email", "route_message", "r2")
    assert _ID.match(derive_decision_id("triage", "text with a lone surrogate \ud800"))


def test_fresh_decision_ids_share_the_format_and_never_repeat():
    """Given many fresh ids / Then each has the one format and none repeats."""
    ids = {new_decision_id() for _ in range(500)}
    assert len(ids) == 500 and all(_ID.match(i) for i in ids)


@pytest.mark.parametrize("parts, error", [((), ValueError), (("email", 7), TypeError)])
def test_derivation_refuses_what_is_not_a_subject(parts, error):
    """Given no parts or a part that is not text / When derived / Then a clear error, not a silent id."""
    with pytest.raises(error):
        derive_decision_id(*parts)


def test_every_channel_derives_ids_from_the_one_function():
    """Given the modules that derive decision ids (chat governance, email, fraud, triage, tiering, the log)
    / Then each uses chalicelib.core.ids, not a copy."""
    import chalicelib.fraud.actions as fraud
    import chalicelib.governance.decision_log as dlog
    import chalicelib.ingest.service as email
    import intents.governance_gate as chat
    import nlp.tiering as tiering

    assert dlog.derive_decision_id is fraud.derive_decision_id is email.derive_decision_id is derive_decision_id
    assert chat._decision_id is tiering.derive_decision_id is derive_decision_id
    assert dlog.new_decision_id is new_decision_id


def test_triage_without_an_id_gets_a_derived_decision_id():
    """Given triage called without an id / Then the cost ledger key is the derived decision id of the text."""
    from nlp.triage_result import triage_key

    assert triage_key(None, "redacted text") == derive_decision_id("triage", "redacted text")
    assert triage_key("dec-given", "redacted text") == "dec-given"


def test_the_clock_is_aware_utc_and_shared():
    """Given the clock / Then now is aware UTC, and the models, identity and bot services use this one."""
    import chalicelib.core.models as models
    import chalicelib.identity.stepup as identity
    import chatbot.bootstrap as services

    now = utcnow()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert models.utcnow is identity.utcnow is utcnow
    assert services.build_services.__defaults__[2] is utcnow
    assert services.Container.__init__.__kwdefaults__["clock"] is utcnow


@pytest.mark.parametrize("value, text", [
    (datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc), "2026-11-01T09:30:00.000000Z"),
    (datetime(2026, 11, 1, 10, 30, tzinfo=timezone(timedelta(hours=1))), "2026-11-01T09:30:00.000000Z"),
    (datetime(2026, 11, 1, 9, 30), "2026-11-01T09:30:00.000000Z"),
    ("2026-11-01T09:30:00.5Z", "2026-11-01T09:30:00.500000Z"),
])
def test_sortable_time_is_fixed_width_utc(value, text):
    """Given aware, offset, naive and ISO-text times / Then one fixed-width UTC form, so order is time order."""
    assert sortable_utc(value) == text


def test_sortable_time_refuses_text_that_is_not_a_time():
    """Given text that is not ISO-8601 / Then a clear error naming it."""
    with pytest.raises(ValueError, match="not an ISO-8601 time"):
        sortable_utc("yesterday")
