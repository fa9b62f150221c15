"""FallbackIntent: Lex did not recognise the request.

The text goes through the same triage pipeline as email (redaction first, then language,
classifier, urgency). Sensitive markers (legal threat, regulator, vulnerability) and languages we
do not serve go straight to a human, as the decision policy requires. A confident reading is
redirected to its intent in the same turn; otherwise the customer is asked again with the options,
and after repeated failures handed over rather than looped.
"""
from __future__ import annotations

import logging
import re

from intents.clarify_intent import ask_which, too_close
from intents.dialog import ATTR_FALLBACKS, Decision, Redirect, Turn
from intents.handoff import escalate
from intents.non_english import answer_if_foreign
from intents.options import OPTIONS
from intents.payment_picker import find_transactions_in_text
from intents.out_of_scope import answer as out_of_scope_answer, topic_for
from intents.replies import render
from intents.small_talk import classify as small_talk_kind, reply as small_talk_reply
from intents.spec import IntentSpec
from intents.vulnerability import sounds_vulnerable
from intents.word_rules import intent_from_words

logger = logging.getLogger("dispute_assistant.fallback")

MAX_FALLBACKS = 3
SENSITIVE = ("vulnerable_customer", "legal_threat", "regulator_mention")
SUPPORTED_LANGUAGES = ("en", "und")
LANGUAGE_CONFIDENCE = 0.8
NOT_REDIRECTABLE = ("FallbackIntent", "VerifyIdentity")
_STOPPED = re.compile(r"\b(fail\w*|declin\w*|refus\w*|reject\w*|block\w*|held|hold|stopped|bounced?|"
                      r"(?:did ?n[o']?t|not|never|wo ?n[o']?t) go (?:through|thru)|would ?n[o']?t (?:take|work|go))\b", re.I)

SPEC = IntentSpec(
    name="FallbackIntent",
    description="Built-in fallback (AMAZON.FallbackIntent).",
    sample_utterances=[],
)


def _triage(turn: Turn, text: str):
    """The shared triage pipeline, or None if it fails: the fallback must answer regardless."""
    try:
        from nlp.triage import triage_text

        # The container's triage (chatbot/bootstrap.py: the Comprehend tier under its kill switch,
        # recording into the container's one decision log); services wired by hand triage locally.
        triage = getattr(turn.services, "triage", None) or triage_text
        return triage(text, id=turn.session_id, channel="chat", today=turn.now.date() if turn.now else None)
    except Exception:  # a model or pipeline fault must not cost the customer an answer
        logger.exception("triage failed in fallback", extra={"session_id": turn.session_id})
        return None


def _redirect(turn: Turn, intent: str, source: str) -> Decision:
    """Hand the turn to the intent the customer meant; the hook runs it in this same turn."""
    session = {k: v for k, v in turn.session.items() if k != ATTR_FALLBACKS}
    return Decision.redirect_to(Redirect(intent=intent, session=session,
                                         facts={"redirected_from_fallback": intent, "redirect_source": source}))


def handle(turn: Turn) -> Decision:
    text = (turn.transcript or "").strip()
    kind = small_talk_kind(text)  # "thanks!" needs no model, and never "didn't understand"
    if kind is not None:
        return small_talk_reply(turn, kind)
    triage = _triage(turn, text) if text else None
    if triage is not None:
        context = {"triage": {"category": triage.category, "intent": triage.intent, "urgency": triage.urgency,
                              "urgency_reasons": triage.urgency_reasons, "language": triage.language,
                              "sentiment": triage.sentiment, "tier": triage.tier_used}}
        sensitive = [r for r in SENSITIVE if r in triage.urgency_reasons]
        sensitive = sensitive or (["vulnerable_customer"] if sounds_vulnerable(text) else [])  # chat's own markers
        if sensitive:
            return escalate(turn, sensitive[0], render("fallback_sensitive"), context)
        foreign = answer_if_foreign(turn, text, context)
        if foreign is not None:
            return foreign
        if triage.language not in SUPPORTED_LANGUAGES and triage.language_confidence >= LANGUAGE_CONFIDENCE:
            return escalate(turn, "unsupported_language", render("fallback_language"), context)
        named = intent_from_words(text, triage.intent)  # a lost card, a withdrawal (issue 13)
        if named is not None:
            return _redirect(turn, named, "classifier")
        if triage.lex_intent and triage.intent != "unsure" and triage.lex_intent not in NOT_REDIRECTABLE:
            return _redirect(turn, triage.lex_intent, "classifier")
    topic = topic_for(text, triage.intent, triage.intent_confidence, triage.category) if triage else topic_for(text)
    if topic is not None:
        return out_of_scope_answer(turn, topic)

    guess = turn.match_utterances(text) if text and turn.match_utterances else None
    if guess and guess.confident and guess.intent not in NOT_REDIRECTABLE:
        return _redirect(turn, guess.intent, "utterances")
    named = bool(text) and bool(find_transactions_in_text(turn, text, named_only=True))  # "the amazon order from yesterday"
    if named and _STOPPED.search(text):  # "why did my payment at shell fail": the words say which request
        return _redirect(turn, "ExplainHold", "payment_named")
    pair = too_close(guess)  # "the charge from netflix is wrong": a dispute or a look? Ask, don't guess
    clarify = ask_which(turn, pair) if pair is not None else None
    if clarify is not None:
        return clarify
    if named:
        return _redirect(turn, "LookupTransaction", "payment_named")

    raw = turn.session.get(ATTR_FALLBACKS, "0")
    count = (int(raw) if raw.isdigit() else 0) + 1
    if count >= MAX_FALLBACKS:
        return escalate(turn, "repeated_fallback", render("fallback_escalate"), {"fallbacks": count})
    session = dict(turn.session)
    session[ATTR_FALLBACKS] = str(count)
    key = "fallback_empty" if not text else "fallback_first" if count == 1 else "fallback_again"
    return Decision(action="ElicitIntent", messages=[render(key)], session=session, card=OPTIONS,
                    intent_state="Failed", facts={"fallbacks": count})
