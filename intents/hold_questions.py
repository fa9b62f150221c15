"""The questions of the held-payment conversation, and what the customer's words mean at each.

Why this is its own module: the same words mean different things at different prompts, and a bank
customer is hurt by a wrong reading either way.
- "Was it you?" (the proactive notice, a clarification) and "Would you like it to go through?"
  (the offer after an explanation) take the same yes, but a bare "no" to the first disowns the
  payment and to the second only leaves it held. Which one was asked is a session marker.
- "My son used it" is neither yes nor no: the customer is asked whether they had permission
  (intents/family_use.py).
- "Are you a real person?" while a question is open is not a request for one: it is answered
  honestly and the question is asked again, with a person one tap away.
- A change of mind during step-up verification ("wait, actually it wasn't me" at the card-digits
  question) goes back to the held payment as a "not me" (the safe path, never a release); "never
  mind, leave it on hold" stops the release.
"""
from __future__ import annotations

import re

from chalicelib.core.models import Transaction
from chalicelib.payments.merchants import find_merchant
from intents.answers import WAS_IT_YOU, WAS_IT_YOURS, Answer, read_answer
from intents.dialog import ATTR_ASKED, ATTR_HISTORY, ATTR_LAST_TXN, ATTR_PENDING_INTENT, Button, Card, Decision, Turn, json_attr
from intents.family_use import WHO
from intents.hold_fraud import BLOCK_CARD_CARD
from intents.multi_request_payments import payment_mentions
from intents.replies import money, render
from intents.small_talk import classify
from intents.verify_identity import ATTR_UNUSABLE

ATTR_HOLD_QUESTION = "holdQuestion"  # "was_it_you", or "family:<who>" while permission is asked
WAS_IT_YOU_ASKED = "was_it_you"
ASIDE_KINDS = ("bot", "presence", "how_are_you", "greeting", "thanks")  # answered, then the question again
# "Why was it held?" at "was it you?": the reason, then the question again (never an unclear answer)
_ASKS_WHY = re.compile(r"\bwhy\b|\bwhat(?:'s| is| was)? (?:this|that|it) (?:about|for)\b|\bwhat happened\b|\bexplain\b|"
                       r"\bhow come\b", re.I)
HOLD_SLOTS = ("ReleaseHold", "BlockCard", "FamilyPermission")
STEP_UP_SLOTS = ("CardLast4", "DateOfBirth", "OneTimeCode")
_STOP_RELEASE = re.compile(
    r"\b(?:don'?t|do not|dont|no need to|please don'?t) (?:release|unblock|let it (?:go )?through|put it through)|"
    r"\bleave it(?: on hold| held| blocked| as it is)?\s*[.!]*$|\bkeep it (?:on hold|held|blocked)\b|\bforget it\b|"
    r"\bnever ?mind\b|\bcancel (?:that|it|the release)\b|\bi(?:'ve| have) changed my mind\b(?!.*\bme\b)", re.I)
MAX_TAKE_BACK_WORDS = 12  # "wait, that wasn't me" right after a release; a longer message is a new request
_FAMILY_WORD = re.compile(rf"^(?:{WHO})$")

REASK_CARD = Card(title="Was this payment yours?", buttons=(Button("Yes, it was me", "yes, it was me"),
                                                            Button("No, it wasn't me", "no, it wasn't me"),
                                                            Button("Not now", "not now"),
                                                            Button("Talk to a person", "Talk to an agent")))
PERMISSION_CARD = Card(title="Did they have your permission?",
                       buttons=(Button("Yes, they had my permission", "yes, they had my permission"),
                                Button("No, they didn't", "no, they did not have my permission")))


def question_kind(turn: Turn) -> str:
    """The reading for the ReleaseHold answer: "was it you?" or the offer to let it through."""
    return WAS_IT_YOURS if turn.session.get(ATTR_HOLD_QUESTION) == WAS_IT_YOU_ASKED else WAS_IT_YOU


def asked_was_it_you(session: dict[str, str]) -> dict[str, str]:
    return {**session, ATTR_HOLD_QUESTION: WAS_IT_YOU_ASKED}


def asked_offer(session: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in session.items() if k != ATTR_HOLD_QUESTION}


def family_asked(turn: Turn) -> str | None:
    """Who the customer said used the card, while the permission question is open (re-checked:
    session attributes come from the client)."""
    kind, _, who = turn.session.get(ATTR_HOLD_QUESTION, "").partition(":")
    return who if kind == "family" and _FAMILY_WORD.match(who) else None


def ask_permission(turn: Turn, txn: Transaction, who: str, messages: list[str] | None = None) -> Decision:
    slots = {**turn.slots, "ReleaseHold": None, "FamilyPermission": None}
    return Decision(action="ElicitSlot", slot_to_elicit="FamilyPermission", slots=slots,
                    session={**turn.session, ATTR_HOLD_QUESTION: f"family:{who}"}, card=PERMISSION_CARD,
                    messages=(messages or []) + [render("hold_family_permission", who=who,
                                                        amount=money(txn.amount_minor, txn.currency),
                                                        merchant=txn.merchant_name)])


def asks_why(text: str | None) -> bool:
    """The customer asks why the payment was stopped, and says nothing about whether it was them."""
    return bool(_ASKS_WHY.search(text or "")) and read_answer(text, WAS_IT_YOU) is Answer.UNCLEAR


def aside_kind(text: str | None) -> str | None:
    """Small talk said at a hold question that is not an answer to it ("are you a real person?")."""
    kind = classify(text)
    return kind if kind in ASIDE_KINDS else None


def aside(turn: Turn, txn: Transaction, slot: str, kind: str) -> Decision:
    """Answer the small talk, then ask the open question again (no attempt is counted)."""
    amount, merchant = money(txn.amount_minor, txn.currency), txn.merchant_name
    messages = [render(f"hold_aside_{kind}")]
    session, card = dict(turn.session), REASK_CARD
    if slot == "BlockCard":
        messages.append(render("hold_offer_block", last4=txn.card_last4))
        card = BLOCK_CARD_CARD
    elif slot == "FamilyPermission" and family_asked(turn):
        messages.append(render("hold_family_permission", who=family_asked(turn), amount=amount, merchant=merchant))
        card = PERMISSION_CARD
    else:
        slot = "ReleaseHold"
        messages.append(render("hold_reask", amount=amount, merchant=merchant))
        session = asked_was_it_you(session)
    return Decision(action="ElicitSlot", slot_to_elicit=slot, slots={**turn.slots, slot: None}, session=session,
                    messages=messages, card=card, facts={"aside": kind})


_STEP_UP_PROMPTS = {"CardLast4": "verify_ask_last4", "DateOfBirth": "verify_reask_dob", "OneTimeCode": "verify_ask_code"}


def step_up_aside(turn: Turn) -> Decision | None:
    """(The hook.) "Are you a bot?" at a verification question: answered, and the question asked
    again, instead of the question being dropped (the next "4242" then meant nothing)."""
    intent, _, slot = turn.session.get(ATTR_ASKED, "").partition(":")
    kind = aside_kind(turn.transcript)
    if intent != "VerifyIdentity" or slot not in _STEP_UP_PROMPTS or kind is None:
        return None
    return Decision(action="ElicitSlot", intent_name="VerifyIdentity", slot_to_elicit=slot,
                    slots={k: v for k, v in turn.slots.items() if k in STEP_UP_SLOTS and k != slot} | {slot: None},
                    session=dict(turn.session), messages=[render(f"hold_aside_{kind}"), render(_STEP_UP_PROMPTS[slot])],
                    facts={"aside": kind})


def back_to_hold_question(turn: Turn) -> Turn:
    """(The hook, before routing.) Words at a hold question or during the release's step-up that
    belong to the held payment, whatever intent Lex heard in them: small talk at a hold question,
    and a change of mind while verifying for a release."""
    intent, _, slot = turn.session.get(ATTR_ASKED, "").partition(":")
    text = (turn.transcript or "").strip()
    if not text or not turn.identity.verified:
        return turn
    if intent == "ExplainHold" and slot in HOLD_SLOTS and turn.intent_name != "ExplainHold" and (
            aside_kind(text) or (slot == "ReleaseHold" and asks_why(text))):
        return turn.with_(intent_name="ExplainHold", slots={slot: text}, original_slots={}, slot_to_elicit=slot,
                          confirmation_state="None")
    if intent == "VerifyIdentity" and slot in STEP_UP_SLOTS and _releasing(turn):
        return _change_of_mind(turn, text)
    if not intent and _just_released(turn) and not re.search(r"\d", text) and read_answer(text, WAS_IT_YOU) is Answer.NOT_ME:
        return turn.with_(intent_name="ExplainHold", slots={"ReleaseHold": text}, original_slots={}, slot_to_elicit="ReleaseHold",
                          confirmation_state="None", session={**turn.session, ATTR_HOLD_QUESTION: "changed_mind"})
    return turn


def _just_released(turn: Turn) -> bool:
    """The last thing this chat did was release the payment it remembers ("wait, that wasn't me")."""
    history = json_attr(turn.session, ATTR_HISTORY, [])
    last = turn.session.get(ATTR_LAST_TXN)
    if not last or not isinstance(history, list) or not history or history[-1] not in ("ExplainHold", "VerifyIdentity"):
        return False
    fd = turn.services.store.fraud.get_for_transaction(turn.identity.customer_id, last[:64])
    if fd is None or not fd.released or len(re.findall(r"[\w']+", turn.transcript or "")) > MAX_TAKE_BACK_WORDS:
        return False
    # "that paypal charge wasn't me either" is about another payment: only the released one, or none, may be named
    txn = turn.services.store.transactions.get(turn.identity.customer_id, last[:64])
    merchant = find_merchant(txn.descriptor) if txn is not None else None
    return all(merchant is not None and m.key == merchant.key for m in payment_mentions(turn.transcript))


def _releasing(turn: Turn) -> bool:
    pending = json_attr(turn.session, ATTR_PENDING_INTENT, None)
    return (isinstance(pending, dict) and pending.get("name") == "ExplainHold"
            and isinstance(pending.get("slots"), dict) and pending["slots"].get("ReleaseHold") == "yes")


def _change_of_mind(turn: Turn, text: str) -> Turn:
    """A "not me" or a "leave it" said during the release's verification goes back to the hold.

    Only unmistakable words count: digits, dates and codes, "hold on", "wait, let me find my card"
    or "no idea" stay answers to the verification question."""
    if re.search(r"\d", text):
        return turn
    answer = read_answer(text, WAS_IT_YOU)
    if answer is Answer.NOT_ME:
        said = text
    elif _STOP_RELEASE.search(text):
        said = "not now"
    else:
        return turn
    session = {k: v for k, v in turn.session.items() if k not in (ATTR_PENDING_INTENT, ATTR_UNUSABLE, ATTR_ASKED)}
    session[ATTR_HOLD_QUESTION] = "changed_mind"
    return turn.with_(intent_name="ExplainHold", slots={"ReleaseHold": said}, original_slots={},
                      slot_to_elicit="ReleaseHold", confirmation_state="None", session=session)


def changed_mind(turn: Turn) -> bool:
    return turn.session.get(ATTR_HOLD_QUESTION) == "changed_mind"
