"""The adversarial run of issue 8, as a test: card numbers (and a CVV, an SSN, an IBAN) typed into
every slot of every intent and into every part of an email; then every response, session attribute,
log line, stored row of every SQLite table and decision is scanned.

`make test` runs a fixed sample (every grouping at least once, every intent and slot); `make fuzz`
(HYPOTHESIS_PROFILE=fuzz) runs the whole cross product.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest

from chalicelib.core import pci
from tests.lex_events import make_lex_event
from tests.security.cards import PANS, groupings, sample_groupings
from tests.world import World

FULL = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
SECRETS = ["my cvv is 123", "ssn 123-45-6789", "IBAN DE89 3704 0044 0532 0130 00"]


def _answers() -> list[str]:
    if FULL:
        return [w for pan in PANS.values() for w in groupings(pan).values()] + SECRETS
    return [written for _, _, written in sample_groupings()] + SECRETS


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def _leaks(texts) -> list[str]:
    return [t for t in texts if pci.find_sensitive(t)]


def _rows(folder: Path) -> set[str]:
    """Every text cell of every table of every SQLite file under ``folder``."""
    cells: set[str] = set()
    for db in folder.glob("**/*.db"):
        con = sqlite3.connect(db)
        try:
            for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                for row in con.execute(f'SELECT * FROM "{table}"'):
                    cells.update(str(c) for c in row if isinstance(c, (str, bytes)))
        finally:
            con.close()
    return cells


def _slots_of_every_intent() -> list[tuple[str, str]]:
    from intents.registry import all_specs

    return [(spec.name, slot.name) for spec in all_specs() for slot in spec.slots] + [
        (spec.name, "") for spec in all_specs() if not spec.slots]


@pytest.fixture(scope="module")
def world_dir():
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


@pytest.fixture(scope="module")
def world(world_dir):
    return World(world_dir)


def test_every_intent_and_slot_keeps_card_numbers_out_of_everything(world, world_dir, caplog):
    """Given card numbers in every grouping of the issue (plus a CVV, an SSN and an IBAN), typed as
    the answer to every slot of every intent and as the transcript, by a verified customer and by a
    stranger, When the hook answers each turn, Then no response (messages, cards, buttons, slots),
    session attribute, log line, stored row or decision carries one, and the reply asks for the
    last 4 instead whenever a card number was typed."""
    baseline = set(_leaks(_rows(world_dir)))
    answers = _answers()
    pairs = _slots_of_every_intent()
    assert len(pairs) > 10 and len({a for a in answers}) >= 30
    leaks: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for n, (intent, slot) in enumerate(pairs):
            chosen = answers if FULL else [answers[(n + k) % len(answers)] for k in range(0, len(answers), 4)]
            for k, answer in enumerate(chosen):
                signed = world.token("demo-alice") if k % 2 == 0 else {}
                ev = make_lex_event(intent=intent, slots={slot: answer} if slot else {}, transcript=answer,
                                    session_attributes={"pendingIntent": json.dumps({"name": intent, "slots": {slot: answer}})},
                                    request_attributes=signed, session_id=f"walk-{n}-{k}", slot_to_elicit=slot or None)
                resp = world.hook(ev)
                leaks += _leaks(_strings(resp))
                if pci.find_pans(answer):
                    said = " ".join(m.get("content", "") for m in resp.get("messages", []))
                    assert "never share a full card number" in said, said
    leaks += _leaks(r.getMessage() for r in caplog.records)
    leaks += _leaks(_strings([r.__dict__.get(k) for r in caplog.records for k in ("session_id", "detail", "error")]))
    leaks += [c for c in _leaks(_rows(world_dir)) if c not in baseline]
    for d in world.services.governance.log.iter_decisions() if world.services.governance else []:
        leaks += _leaks([d.model_dump_json()])
    assert not leaks, leaks[:5]


def test_a_card_number_session_id_is_refused_politely_and_not_recorded(world, world_dir, caplog):
    """Given a Lex sessionId that is a Luhn-valid card number, When the hook gets a turn that would
    hand over to a person, Then it answers politely with no card number, logs the stable error code
    with a hashed id, and records no handoff."""
    before = _rows(world_dir)
    with caplog.at_level(logging.INFO):
        resp = world.hook(make_lex_event(intent="TalkToAgent", slots={}, transcript="agent please",
                                         session_id="4111111111111111"))
    said = " ".join(m.get("content", "") for m in resp["messages"])
    assert "start a new chat" in said and not _leaks(_strings(resp))
    assert any(getattr(r, "error_code", "") == "session_id_pan_shaped" for r in caplog.records)
    assert "4111111111111111" not in caplog.text
    assert _rows(world_dir) == before


def test_session_ids_are_stored_and_logged_hashed(world, caplog):
    """Given a turn that records a handoff, When it is stored and logged, Then the raw sessionId
    appears in neither, and the stored id is the one helper's hash."""
    from chalicelib.core.ids import session_key

    with caplog.at_level(logging.INFO):
        world.hook(make_lex_event(intent="TalkToAgent", slots={}, transcript="a person please", session_id="raw-sid-77"))
    assert world.store.handoffs.list_for_session(session_key("raw-sid-77"))
    assert not world.store.handoffs.list_for_session("raw-sid-77")
    assert "raw-sid-77" not in caplog.text


def test_a_typed_card_number_is_not_read_as_an_amount():
    """Given a card number typed where an amount or a payment is asked, When parsed, Then it is
    no amount at all (it was read as $4,710,190,115,300,057.00)."""
    from intents.slots import amount_in_phrase, parse_amount_text

    for written in groupings(PANS["visa16"]).values():
        assert parse_amount_text(written) is None, written
        assert amount_in_phrase(f"the {written} one") is None, written
    assert parse_amount_text("$42.99") == 4299


def test_log_lines_of_project_loggers_are_scrubbed(caplog):
    """Given the log guard installed, When a project module logs a card number in its message, its
    arguments and an extra field, Then the captured record carries none of them; another library's
    logger is left alone."""
    from chalicelib.core import log_guard

    log_guard.install()
    written = groupings(PANS["mc2"])["nbsp"]
    with caplog.at_level(logging.INFO):
        logging.getLogger("chalicelib.anything").info(f"card {written} and %s", "cvv 123", extra={"detail": {"t": written}})
        logging.getLogger("thirdparty").info("id %s", "x")
    ours = [r for r in caplog.records if r.name == "chalicelib.anything"]
    assert ours and not _leaks([ours[0].getMessage(), json.dumps(ours[0].detail)]), ours[0].getMessage()
    assert "[CARD ****0009]" in ours[0].getMessage()


def test_session_attribute_values_are_guarded_before_encoding(world):
    """Given session attributes whose JSON escapes a card number's separators (tab, NBSP as \\u00a0,
    en dash) and a CVV, When the hook answers, Then the decoded values carry none of them (a scrub
    over the encoded string used to miss exactly these)."""
    nasty = {"name": "LookupTransaction", "slots": {"Merchant": "4111\t1111\t1111\t1111",
                                                    "Amount": "5500\u00a00000\u00a00000\u00a00004",
                                                    "TransactionDate": "2221\u20130000\u20130000\u20130009 cvv 123"}}
    carried = {"pendingIntent": json.dumps(nasty), "candidates": json.dumps(["4111\t1111\t1111\t1111"]),
               "intentHistory": json.dumps(["5500\u00a00000\u00a00000\u00a00004"])}
    for intent, token in (("LookupTransaction", {}), ("DisputeStatus", world.token("demo-alice")),
                          ("FallbackIntent", world.token("demo-bob"))):
        ev = make_lex_event(intent=intent, slots={}, transcript="hello", session_attributes=carried,
                            request_attributes=token, session_id=f"attrs-{intent}")
        attrs = world.hook(ev)["sessionState"].get("sessionAttributes", {})
        decoded = [json.loads(v) if v[:1] in "[{" else v for v in attrs.values()]
        assert not _leaks(_strings(decoded) + list(attrs.values())), (intent, attrs)


def test_metric_dimensions_never_carry_a_card_number():
    """Given a dimension value holding a card number, When a metric is emitted, Then the EMF document
    carries the masked token only."""
    from chalicelib.governance.metrics import GovernanceMetrics

    lines: list = []
    GovernanceMetrics(sink=lines.append, enabled=True).put("Turns", 1, Intent="4111\u00a01111\u00a01111\u00a01111")
    # EMF's own epoch-millisecond timestamp is 13 digits and passes Luhn about 1 time in 10: scan what
    # a customer could have put there (dimensions and values), not the clock.
    docs = [json.loads(x) if isinstance(x, str) else x for x in lines]
    for d in docs:
        d.get("_aws", {}).pop("Timestamp", None)
    assert lines and not _leaks([json.dumps(d) for d in docs]) and "[CARD ****1111]" in str(docs)
