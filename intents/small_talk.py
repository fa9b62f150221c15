"""SmallTalk: greetings, thanks, goodbyes, "are you a bot?", "anyone there?", "how long will I wait?".

Why an intent of its own: a greeting answered with "Sorry, I didn't understand that" reads as a
broken bot. Each answer is short and moves the conversation on; a wait question after a handoff
gets the queue's promised wait (chalicelib.tickets.sla), never an invented one.
"""
from __future__ import annotations

import re
from functools import lru_cache

from intents.dialog import ATTR_HANDOFF, Decision, Redirect, Turn
from intents.options import OPTIONS
from intents.spec import IntentSpec
from intents.talk_text import load_catalogue, say

SPEC = IntentSpec(
    name="SmallTalk",
    description="Greetings, thanks, goodbyes and questions about the assistant itself.",
    sample_utterances=[
        "hello", "hello there", "hi", "hey", "good morning", "good afternoon", "hiya",
        "thanks", "thank you", "thanks a lot", "cheers", "thank you so much for your help",
        "bye", "goodbye", "cheers, that's all", "that's all thanks", "I'm done", "nothing else",
        "are you a bot", "am I talking to a real person", "are you a robot", "is this a bot",
        "are you still there", "hello? anyone there?", "is anyone there",
    ],
    # Only lexically distinct phrases: "how long will I wait?" or "ok" as samples would pull in
    # "how do I top up". Lex sends those to the fallback, which recognises all small talk first.
    fulfillment_code_hook=True,
)

# Handoff reason -> (queue, priority) of the team that picks it up (chalicelib/tickets/data/sla.yaml).
QUEUE_FOR_REASON = {
    "lost_card": ("fraud", "P1"), "fraud_not_me": ("fraud", "P1"), "vulnerable_customer": ("vulnerable_customers", "P2"),
    "legal_threat": ("complaints", "P2"), "regulator_mention": ("complaints", "P2"),
}
DEFAULT_QUEUE = ("general", "P3")


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[tuple[str, re.Pattern], ...], frozenset[str]]:
    data = load_catalogue("small_talk.yaml")
    kinds = tuple((kind, re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in pats) + r")(?!\w)"))
                  for kind, pats in data["kinds"].items())
    return kinds, frozenset(data.get("filler") or ())


def classify(text: str | None) -> str | None:
    """The kind of small talk the whole message is, or None when it carries a request too."""
    low = " ".join((text or "").lower().replace("’", "'").split())
    if not low or len(low) > 120:
        return None
    kinds, filler = _patterns()
    found: list[str] = []
    rest = low
    for kind, rx in kinds:
        if rx.search(rest):
            found.append(kind)
            rest = rx.sub(" ", rest)
    if not found:
        return None
    leftover = [w for w in re.findall(r"[a-z']+", rest) if w not in filler]
    return found[0] if not leftover else None


def _wait_phrase(turn: Turn, ref: str) -> str:
    from chalicelib.tickets.sla import expected_wait

    handoff = turn.services.store.handoffs.get(ref)
    queue, priority = QUEUE_FOR_REASON.get(handoff.reason if handoff else "", DEFAULT_QUEUE)
    # The promise is the queue's SLA (the estimate is capped by it): a chat cannot see the backlog.
    return expected_wait(queue, priority, ahead=10**6).phrase


def reply(turn: Turn, kind: str) -> Decision:
    ref = turn.session.get(ATTR_HANDOFF)
    session = dict(turn.session)
    facts = {"small_talk": kind}
    if kind == "goodbye":
        return Decision(action="Close", intent_state="Fulfilled", messages=[say("goodbye")], session=session,
                        facts=facts)
    if kind in ("wait", "presence") and ref:
        return Decision(action="ElicitIntent", messages=[say(f"{kind}_handoff", ref=ref, wait=_wait_phrase(turn, ref))],
                        session=session, facts={**facts, "handoff_id": ref})
    if kind == "wait":
        return Decision(action="ElicitIntent", messages=[say("wait_none")], session=session, card=OPTIONS, facts=facts)
    if kind == "greeting":
        key = "greeting_again" if turn.session.get("intentHistory", "").count(",") >= 1 else "greeting"
        return Decision(action="ElicitIntent", messages=[say(key)], session=session, card=OPTIONS, facts=facts)
    card = OPTIONS if kind in ("bot", "presence", "how_are_you") else None
    return Decision(action="ElicitIntent", messages=[say(kind)], session=session, card=card, facts=facts)


# "can I talk to a real person please" sits close to the sample "am I talking to a real person":
# words that ask for a person are a request for one, never small talk.
_WANTS_PERSON = re.compile(r"\b(?:talk|speak|chat|connect|transfer|put me through|pass me)\b.{0,30}\b(?:person|human|agent|someone|"
                           r"somebody|representative|advisor|adviser|people)\b|\b(?:want|need|get me|give me)\b.{0,15}"
                           r"\b(?:person|human|agent|representative)\b", re.I)


def handle(turn: Turn) -> Decision:
    kind = classify(turn.transcript)
    if kind is None and _WANTS_PERSON.search(turn.transcript or ""):
        return Decision.redirect_to(Redirect(intent="TalkToAgent", session=dict(turn.session)))
    # Lex picked SmallTalk for words beyond small talk ("hi there, um"): greet and show the menu,
    # never "didn't understand" (a request beside a greeting goes to its own intent first).
    return reply(turn, kind or "greeting")
