"""FallbackIntent: Lex did not recognise the request.

Tries the local recogniser (sample utterances + the nlp classifier when its artifacts exist);
redirects when it is confident, otherwise asks again with the options, and escalates after
repeated failures rather than looping.
"""
from __future__ import annotations

from chatbot.dialog import ATTR_FALLBACKS, Button, Card, Decision, Turn
from chatbot.replies import render
from chatbot.spec import IntentSpec
from intents._common import escalate

MAX_FALLBACKS = 3

SPEC = IntentSpec(
    name="FallbackIntent",
    description="Built-in fallback (AMAZON.FallbackIntent).",
    sample_utterances=[],
)

OPTIONS = Card(
    title="I can help with",
    buttons=(
        Button("Check a payment", "Look up a payment"),
        Button("Declined or held payment", "Why was my card declined"),
        Button("Dispute a charge", "I want to dispute a charge"),
        Button("Dispute status", "What's the status of my dispute"),
        Button("Talk to an agent", "Talk to an agent"),
    ),
)


def handle(turn: Turn) -> Decision:
    from chatbot.recognizer import recognise
    from intents.registry import handler_for

    text = (turn.transcript or "").strip()
    guess = recognise(text) if text else None
    if guess and guess.confident and guess.intent not in ("FallbackIntent", "VerifyIdentity"):
        target = turn.with_(intent_name=guess.intent, slots={}, original_slots={}, slot_to_elicit=None,
                            confirmation_state="None", session={k: v for k, v in turn.session.items() if k != ATTR_FALLBACKS})
        decision = handler_for(guess.intent)(target)
        if decision.intent_name is None:
            decision.intent_name = guess.intent
        decision.facts["redirected_from_fallback"] = guess.intent
        return decision

    raw = turn.session.get(ATTR_FALLBACKS, "0")
    count = (int(raw) if raw.isdigit() else 0) + 1
    if count >= MAX_FALLBACKS:
        return escalate(turn, "repeated_fallback", render("fallback_escalate"), {"fallbacks": count})
    session = dict(turn.session)
    session[ATTR_FALLBACKS] = str(count)
    key = "fallback_empty" if not text else "fallback_first" if count == 1 else "fallback_again"
    return Decision(action="ElicitIntent", messages=[render(key)], session=session, card=OPTIONS,
                    intent_state="Failed", facts={"fallbacks": count})
