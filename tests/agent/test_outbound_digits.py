"""No outbound text carries a 13-19 digit run (issue 10 part B): a time with microseconds is 20
digits behind separators, about one in ten such runs passes Luhn, and the card-number guard then
masks the time (or a scanner downstream reports a card number we never had). Every outbound time
goes through one helper (chalicelib.core.clock.outbound_time): to the second, with separators."""
from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

from chalicelib.core.clock import outbound_time, outbound_times
from chalicelib.core.pci import find_pans
from tests.world import NOW

# What a log line carries beyond its message: the extras we add (the record's own thread and
# process ids and float timestamps are the handler's business, formatted by it).
STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
RUN = re.compile(r"(?<!\d)\d{13,19}(?!\d)")


def luhn_looking_now():
    """The world's clock at a microsecond whose ISO form the card-number guard reads as a card
    number, so a raw ``isoformat()`` anywhere in the run fails this test."""
    for us in range(1, 1_000_000, 7919):
        at = NOW.replace(microsecond=us)
        if find_pans(at.isoformat()) and find_pans(str(at)):
            return at
    raise AssertionError("no Luhn-looking microsecond found")


def offenders(texts: dict[str, str]) -> list[str]:
    bad = []
    for where, text in texts.items():
        bad += [f"{where}: run {m.group()}" for m in RUN.finditer(text)]
        bad += [f"{where}: card-like {text[max(0, s.start - 20):s.end + 20]!r}" for s in find_pans(text)]
    return bad


def test_no_outbound_text_of_an_end_to_end_run_has_a_card_like_digit_run(world, agent_api, caplog):
    """Given the clock at a microsecond whose ISO time looks like a card number / When a customer
    chats to an escalation, an agent claims, notes and resolves it through the API (and a ticket is
    read back), Then no outbox file name or content, SNS message, ticket (bundle included), API
    answer, Lex session attribute or log line carries a 13-19 digit run or anything the guard would
    take for a card number."""
    world.now = luhn_looking_now()
    texts: dict[str, str] = {}
    with caplog.at_level(logging.DEBUG):
        chat = world.emulator("demo-alice")
        chat.send("find the netflix payment")
        reply = chat.send("talk to an agent")
        texts["session"] = json.dumps(chat.session_attributes)
        texts["chat"] = json.dumps(reply.bot)
        ref = re.search(r"TKT-[A-Z2-9]{8}", " ".join(reply.bot)).group(0)
        world.now += timedelta(minutes=7, microseconds=1)
        for method, path, body in [("GET", f"/agent/tickets/{ref}", None), ("POST", f"/agent/tickets/{ref}/claim", None),
                                   ("POST", f"/agent/tickets/{ref}/notes", {"text": "Called Alice back."}),
                                   ("POST", f"/agent/tickets/{ref}/resolve",
                                    {"outcome": "helped", "message": "We checked the Netflix payment with you."}),
                                   ("GET", "/agent/tickets?queue=disputes", None)]:
            status, out = agent_api.call(method, path, body=body)
            assert status == 200, out
            texts[f"api {method} {path}"] = json.dumps(out)
    outbox = world.settings.outbox_dir
    for p in outbox.glob("*"):
        texts[f"outbox name {p.name}"] = p.name
        texts[f"outbox {p.name}"] = p.read_text(errors="replace")
    texts["logs"] = "\n".join(f"{r.getMessage()} {json.dumps({k: str(v) for k, v in r.__dict__.items() if k not in STANDARD})}"
                              for r in caplog.records)
    texts["otp outbox"] = world.settings.otp_outbox_path.read_text() if world.settings.otp_outbox_path.exists() else ""

    assert any(name.endswith(".eml") for name in texts) and any(name.endswith(".sns.json") for name in texts)
    assert offenders(texts) == []
    api_ticket = json.loads(texts[f"api GET /agent/tickets/{ref}"])
    assert api_ticket["created_at"] == outbound_time(NOW.replace(microsecond=0)) == "2026-11-18T15:00:00Z"


def test_outbound_times_rewrites_every_time_in_a_dump_and_leaves_the_rest():
    """Given a model dump with datetimes, ISO texts with microseconds and ordinary values / When made
    outbound / Then every time is whole-second UTC text and nothing else changes."""
    at = luhn_looking_now()
    dump = {"at": at, "iso": at.isoformat(), "list": [at.isoformat(), "TKT-ABCDEFGH", 42], "date": "2026-11-18",
            "none": None, "text": "paid 15.49 on 2026-11-18"}
    assert outbound_times(dump) == {"at": "2026-11-18T15:00:00Z", "iso": "2026-11-18T15:00:00Z",
                                    "list": ["2026-11-18T15:00:00Z", "TKT-ABCDEFGH", 42], "date": "2026-11-18",
                                    "none": None, "text": "paid 15.49 on 2026-11-18"}
    assert outbound_time(at, minutes=True) == "2026-11-18T15:00Z" and outbound_time(None) is None
