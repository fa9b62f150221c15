"""A word or two typed at a question is an answer to it, not a new request; a clear new request is.

Why: Lex may switch intents on any utterance that scores high for another intent, and a lone word
often does ("block" typed at "which payment?" scored 0.72 for LostCard and froze every card). A
reply of at most ``MAX_ANSWER_WORDS`` words goes back to the question asked, unless it is small
talk, a request for a person, or says in so many words that the card is lost or stolen. The other
way round, a customer who says their card was just stolen while answering a question is heard at
once, whatever Lex made of it: a lost card cannot wait for the dispute form to finish.
"""
from __future__ import annotations

import re

from intents.dialog import ATTR_ASKED, Turn
from intents.lost_card import reads_as_lost
from intents.registry import spec_for
from intents.small_talk import classify

MAX_ANSWER_WORDS = 2
NEW_REQUEST_INTENTS = ("TalkToAgent", "SmallTalk")  # "agent", "thanks", "bye" mean what they say at any prompt
NEVER_KEPT = ("VerifyIdentity",)  # step-up keeps its own answers (codes, dates) and its own switching


def _asked(turn: Turn) -> tuple[str, str]:
    intent, _, slot = turn.session.get(ATTR_ASKED, "").partition(":")
    return intent, slot


def _free_text(intent: str, slot: str) -> bool:
    spec = spec_for(intent)
    try:
        return spec is not None and spec.slot(slot).slot_type in ("AMAZON.FreeFormInput", "AMAZON.AlphaNumeric")
    except KeyError:
        return False


def keep_or_switch(turn: Turn) -> Turn:
    """The turn as it should be routed: back to the question for a short answer Lex switched away,
    to LostCard for a loss reported mid-question, otherwise unchanged."""
    intent, slot = _asked(turn)
    text = (turn.transcript or "").strip()
    if not intent or not slot or intent in NEVER_KEPT or not text:
        return turn
    if reads_as_lost(text):
        if turn.intent_name == "LostCard" or intent == "LostCard" or _free_text(intent, slot):
            return turn  # "what happened?" answered with "my wallet was stolen, then this charge" is an answer
        return turn.with_(intent_name="LostCard", slots={}, original_slots={}, slot_to_elicit=None,
                          confirmation_state="None")
    words = re.findall(r"[\w']+", text)
    if (turn.intent_name == intent or len(words) > MAX_ANSWER_WORDS or turn.intent_name in NEW_REQUEST_INTENTS
            or classify(text) is not None):
        return turn
    return turn.with_(intent_name=intent, slots={slot: text}, original_slots={slot: text}, slot_to_elicit=slot,
                      confirmation_state="None")
