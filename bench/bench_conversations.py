"""The conversation set (tests/fixtures/conversation_set.yaml) played through the emulator and the
real hook: the share of first messages and multi-turn conversations handled as expected.

Why a fixed world per conversation: a withdrawn dispute or a frozen card must not change what the
next conversation sees, so each one starts from a copy of one seeded demo store (copying a file
is far cheaper than seeding 6,200 payments again). Run by `make evaluate` and `make bench`.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "tests" / "fixtures" / "conversation_set.yaml"
ANCHOR = date(2026, 11, 18)
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=timezone.utc)
KEY = "bench-identity-key-0123456789abcdef0123456789abcdef"
NOT_UNDERSTOOD = "didn't understand"


class _Seeded:
    """One seeded store file, copied for every conversation."""

    def __init__(self, work: Path):
        from chalicelib.demo.demo_data import seed
        from chalicelib.storage.sqlite import SqliteStore

        self.work = work
        self.template = work / "template.db"
        store = SqliteStore(self.template)
        store.create_schema()
        seed(store, anchor=ANCHOR)
        # Closing the last connection checkpoints the WAL into the file: a copy of a file whose WAL
        # still holds the last commits has no cases (when the GC closed it first, it did: the score
        # moved with whatever the process had run before).
        store.close()
        self.n = 0

    def emulator(self, customer: str | None):
        from chalicelib.core.settings import Settings
        from chalicelib.identity import REQUEST_ATTRIBUTE, LocalOutboxSender, TokenSigner
        from chalicelib.storage.sqlite import SqliteStore
        from chatbot.emulator import LexEmulator
        from chatbot.hook import handle_lex_event
        from chatbot.bootstrap import build_services
        from intents.registry import all_specs

        self.n += 1
        db, outbox = self.work / f"c{self.n}.db", self.work / f"c{self.n}.outbox"
        shutil.copyfile(self.template, db)
        settings = Settings(sqlite_path=db, identity_key=KEY, otp_outbox_path=outbox)
        services, resolver = build_services(settings, store=SqliteStore(db), clock=lambda: NOW,
                                            otp_sender=LocalOutboxSender(outbox))
        # The bench plays the signed-in web app: "web" is one of the audiences every wiring accepts.
        attrs = {REQUEST_ATTRIBUTE: TokenSigner.from_settings(settings).mint(customer, channel="web")} if customer else {}
        hook = lambda ev: handle_lex_event(ev, services, resolver, budget_s=20)  # noqa: E731
        return LexEmulator(hook, all_specs(), request_attributes=attrs, today=lambda: NOW, use_classifier=False), outbox


def check(result, expect: dict, allow_not_understood: bool = False) -> list[str]:
    """What is wrong with one turn's answer against its expectation (empty when handled as expected)."""
    said = " ".join(result.bot + [b["text"] for b in result.buttons]).lower()
    wrong = []
    if "intent" in expect and result.intent != expect["intent"]:
        wrong.append(f"intent {result.intent} != {expect['intent']}")
    if "action" in expect and result.dialog_action != expect["action"]:
        wrong.append(f"action {result.dialog_action} != {expect['action']}")
    wrong += [f"missing {s!r}" for s in expect.get("says", []) if s.lower() not in said]
    if expect.get("says_any") and not any(s.lower() in said for s in expect["says_any"]):
        wrong.append(f"none of {expect['says_any']}")
    wrong += [f"said {s!r}" for s in expect.get("not_says", []) if s.lower() in said]
    if not allow_not_understood and NOT_UNDERSTOOD in said:
        wrong.append("said it did not understand")
    return wrong


def _play(seeded: _Seeded, customer: str | None, turns: list[dict]) -> list[str]:
    from chalicelib.identity import latest_local_code

    emulator, outbox = seeded.emulator(customer)
    for i, turn in enumerate(turns, 1):
        user = str(turn["user"])
        m = re.fullmatch(r"\{otp:([\w-]+)\}", user)
        if m:
            user = latest_local_code(outbox, m.group(1)) or "000000"
        result = emulator.send(user)
        wrong = check(result, turn.get("expect") or {}, bool(turn.get("allow_not_understood")))
        if wrong:
            return [f"turn {i} {user!r}: {'; '.join(wrong)} -> {' | '.join(result.bot)[:200]}"]
    return []


def sections(spec: dict) -> tuple[list[dict], list[dict]]:
    """The set's first-message groups and conversations: the top-level lists, then those of each
    named section (a mapping at the top level, e.g. ``ground:``, with the same two lists)."""
    first, convs = list(spec.get("first_messages") or []), list(spec.get("conversations") or [])
    for value in spec.values():
        if isinstance(value, dict):
            first += value.get("first_messages") or []
            convs += value.get("conversations") or []
    return first, convs


def evaluate(path: Path = SET) -> dict:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    first_groups, conversations = sections(spec)
    failures: list[dict] = []
    first_ok = first_n = conv_ok = conv_n = 0
    with tempfile.TemporaryDirectory() as tmp:
        seeded = _Seeded(Path(tmp))
        for group in first_groups:
            for msg in group["messages"]:
                first_n += 1
                wrong = _play(seeded, group.get("customer"), [{"user": msg, "expect": group["expect"]}])
                first_ok += not wrong
                failures += [{"set": group["name"], "why": w} for w in wrong]
        for conv in conversations:
            conv_n += 1
            wrong = _play(seeded, conv.get("customer"), conv["turns"])
            conv_ok += not wrong
            failures += [{"set": conv["name"], "why": w} for w in wrong]
    total_ok, total = first_ok + conv_ok, first_n + conv_n
    return {
        "conversation_set_handled_pct": round(100 * total_ok / total, 1),
        "first_messages": first_n, "first_messages_handled_pct": round(100 * first_ok / first_n, 1),
        "conversations": conv_n, "conversations_handled_pct": round(100 * conv_ok / conv_n, 1),
        "goal_pct": 95.0, "failures": failures,
    }


def run() -> dict:
    return evaluate()


if __name__ == "__main__":
    import json

    print(json.dumps(evaluate(), indent=1))
