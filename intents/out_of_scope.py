"""Requests we understood but do not serve: say what we understood and where it is handled.

Why: "Sorry, I didn't understand that" after a clear "I forgot my PIN" reads as a broken bot (the
doom loop). The answer comes from a bank-configurable catalogue (templates/out_of_scope.yaml, one
entry per topic, a default that offers a person) so no code ever states a bank policy. The Lex
contract stays that of the fallback: ElicitIntent, with a person one tap away.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from intents.dialog import Button, Card, Decision, Turn
from intents.spec import IntentSpec
from intents.talk_text import load_catalogue, render_text, say

MIN_CONFIDENCE = 0.6  # below this the classifier's topic is a guess, and guesses are not stated

CARD = Card(title="What next?", buttons=(
    Button("Talk to a person", "Talk to an agent"),
    Button("Something else", "What can you help with?"),
))


@dataclass(frozen=True)
class Topic:
    key: str
    labels: frozenset[str]
    phrases: re.Pattern | None
    understood: str
    where: str


@lru_cache(maxsize=1)
def topics() -> tuple[tuple[Topic, ...], Topic]:
    data = load_catalogue("out_of_scope.yaml")
    out = []
    for key, entry in (data.get("topics") or {}).items():
        phrases = entry.get("phrases") or []
        rx = re.compile("|".join(f"(?:{p})" for p in phrases)) if phrases else None
        out.append(Topic(key, frozenset(entry.get("labels") or ()), rx, entry["understood"], entry["where"]))
    d = data["default"]
    return tuple(out), Topic("default", frozenset(), None, d["understood"], d["where"])


def topic_for(text: str, label: str | None = None, confidence: float = 0.0, category: str | None = None) -> Topic | None:
    """The catalogue topic a message is about: its words first, then a confident classifier label
    (BANKING77) the taxonomy calls out of scope; None when it is not an out-of-scope request."""
    known, default = topics()
    low = (text or "").lower()
    for t in known:
        if t.phrases is not None and t.phrases.search(low):
            return t
    if label and confidence >= MIN_CONFIDENCE and category == "out_of_scope":
        return next((t for t in known if label in t.labels), default)
    return None


def _samples() -> list[str]:
    seen: dict[str, None] = {}
    for entry in (load_catalogue("out_of_scope.yaml").get("topics") or {}).values():
        seen.update(dict.fromkeys(entry.get("samples") or ()))
    return list(seen)


# Lex recognises the topics itself (samples from the catalogue), so "I need a new card" is not
# read as a request for a person or "close my account" as closing a dispute.
SPEC = IntentSpec(
    name="OutOfScope",
    description="Requests we understand but do not serve here: say where they are handled.",
    sample_utterances=_samples(),
    fulfillment_code_hook=True,
)


def handle(turn: Turn) -> Decision:
    """Lex chose this intent; the catalogue's words name the topic. Small talk that merely looks
    like a topic ("how long is the wait?") is answered as small talk, and words naming no topic
    get the menu rather than a claim that we understood."""
    from intents.options import OPTIONS
    from intents.small_talk import classify, reply

    text = turn.transcript or ""
    kind = classify(text)
    if kind is not None:
        return reply(turn, kind)
    topic = topic_for(text)
    if topic is None:
        return Decision(action="ElicitIntent", messages=[say("oos_unnamed")], session=dict(turn.session),
                        card=OPTIONS, intent_state="Failed", facts={"out_of_scope": "unnamed"})
    return answer(turn, topic)


def answer(turn: Turn, topic: Topic) -> Decision:
    understood = render_text(topic.understood)
    where = render_text(topic.where)
    return Decision(action="ElicitIntent", messages=[f"I understand {understood}. {where}",
                                                     "Would you like me to connect you with a person, or is there a card payment I can help with?"],
                    session=dict(turn.session), card=CARD, intent_state="Failed",
                    facts={"out_of_scope": topic.key})
