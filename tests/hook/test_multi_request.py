"""Several requests in one message: each is seen, named at once, handled in turn, never dropped."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chalicelib.identity import Identity
from chatbot.hook import KNOWN_SESSION_KEYS, _clean_session, route_requests
from chatbot.recognizer import recognise
from intents.dialog import Decision, Turn
from intents.multi_request import (ATTR_PENDING_REQUESTS, MAX_PENDING, clauses, pending, split_requests)


def _match(text):
    return recognise(text, use_classifier=False)


def _turn(transcript: str, intent: str = "ExplainHold", **changes) -> Turn:
    base = dict(session_id="s-1", intent_name=intent, invocation_source="DialogCodeHook", transcript=transcript,
                slots={}, original_slots={}, confirmation_state="None", session={}, request_attributes={},
                identity=Identity(customer_id="cust-1", method="token"), services=None,
                now=datetime(2026, 11, 18, tzinfo=timezone.utc), slot_to_elicit=None, match_utterances=_match)
    base.update(changes)
    return Turn(**base)


class Recorder:
    """Handlers that record which intent ran on which words, and finish or ask as told."""

    def __init__(self, asks: set[str] = frozenset()):
        self.ran: list[tuple[str, str]] = []
        self.asks = asks

    def __call__(self, name):
        def handler(turn: Turn) -> Decision:
            self.ran.append((name, turn.transcript))
            if name in self.asks:
                return Decision(action="ElicitSlot", slot_to_elicit="X", messages=[f"{name}?"], session=dict(turn.session))
            return Decision(action="Close", messages=[f"{name} done", "Is there anything else I can help with?"],
                            session=dict(turn.session))
        return handler


@pytest.mark.parametrize("text, intents", [
    ("my card got declined at Tesco and there's also a PayPal charge I don't recognise", ["ExplainHold", "FileDispute"]),
    ("card declined at best buy. also whats the status of my dispute", ["ExplainHold", "DisputeStatus"]),
    ("what's the status of my dispute, plus did my amazon payment go through", ["DisputeStatus", "LookupTransaction"]),
    ("wheres my dispute at n also i think i lost my card", ["DisputeStatus", "LostCard"]),
])
def test_two_requests_are_found_in_the_order_written(text, intents):
    """Given a message holding two requests joined the ways customers join them, When split,
    Then both intents are found, in the order written."""
    assert [r.intent for r in split_requests(text, _match)] == intents


@pytest.mark.parametrize("text", [
    "I lost my card and phone",
    "someone stole my wallet and my keys",
    "why was my card declined at shell and what can I do",
    "I don't recognise a charge and I want my money back",
    "hi, I don't recognise a charge",
])
def test_one_request_in_several_pieces_stays_one(text):
    """Given one request whose pieces are not requests of their own (or say the same thing twice),
    When split, Then at most one request is found: nothing is invented."""
    assert len(split_requests(text, _match)) <= 1


def test_clauses_cut_at_the_seams_customers_use():
    """Given "and also", a full stop and "plus", When cut, Then each request's words stand alone."""
    assert clauses("my card was declined. also a charge i dont know, plus where is my dispute") == [
        "my card was declined", "a charge i dont know", "where is my dispute"]


def test_both_are_named_at_once_and_the_second_starts_when_the_first_finishes():
    """Given two requests whose first finishes at once, When the turn is routed, Then the customer
    hears that both were seen, the first is answered on its own words, and the second starts in
    the same turn with a lead-in, without the first's "anything else?" in between."""
    rec = Recorder(asks={"FileDispute"})
    decision = route_requests(_turn("my card got declined at Tesco and there's also a PayPal charge I don't recognise"), rec)

    assert rec.ran == [("ExplainHold", "my card got declined at Tesco"),
                       ("FileDispute", "there's also a PayPal charge I don't recognise")]
    assert decision.messages[0] == ("I can see 2 things there: I'll start with the Tesco payment that was stopped, "
                                    "then look at the PayPal charge.")
    assert decision.messages[1:] == ["ExplainHold done", "Now, as promised, the PayPal charge:", "FileDispute?"]
    assert decision.intent_name == "FileDispute" and decision.action == "ElicitSlot"
    assert pending(decision.session) == []


def test_the_second_waits_while_the_first_asks_questions():
    """Given a first request that needs a question answered, When routed, Then the second waits
    in the session (redacted, capped) and nothing else runs yet."""
    rec = Recorder(asks={"ExplainHold"})
    decision = route_requests(_turn("why was my card declined? plus there's a charge from 4111 1111 1111 1111 i never made"), rec)

    assert [name for name, _ in rec.ran] == ["ExplainHold"]
    queued = pending(decision.session)
    assert [q["intent"] for q in queued] == ["FileDispute"]
    assert "4111 1111 1111 1111" not in json.dumps(queued)


def test_a_goodbye_with_a_request_waiting_says_so_and_clears_it():
    """Given a request waiting, When the customer says goodbye, Then the goodbye names it, and the
    queue is emptied (told once, not started after the customer left)."""
    session = {ATTR_PENDING_REQUESTS: json.dumps([{"intent": "FileDispute", "text": "a paypal charge", "label": "the PayPal charge"}])}

    def goodbye(turn):
        return Decision(action="Close", messages=["Take care."], session=dict(turn.session), facts={"small_talk": "goodbye"})

    decision = route_requests(_turn("bye", intent="SmallTalk", session=session), lambda name: goodbye)

    assert decision.messages[0].startswith("Before you go: you also asked about the PayPal charge")
    assert decision.action == "Close" and pending(decision.session) == []


def test_an_answer_to_a_question_is_never_split():
    """Given the bot asked for a slot, When the answer reads like two requests, Then it is an answer:
    the intent asked runs once on the whole text."""
    rec = Recorder(asks={"FileDispute"})
    text = "the paypal one. also my card was declined"
    route_requests(_turn(text, intent="FileDispute", slot_to_elicit="TransactionRef"), rec)
    assert rec.ran == [("FileDispute", text)]


@pytest.mark.parametrize("raw", [
    "not json", json.dumps({"intent": "FileDispute"}), json.dumps([{"intent": "LostCard", "text": "x", "label": "y"}]),
    json.dumps([{"intent": "FileDispute", "text": 5, "label": "y"}]), json.dumps([[1]] * 50),
])
def test_a_forged_or_broken_queue_is_ignored(raw):
    """Given a pendingRequests attribute a client forged (not a list, an intent that acts without
    asking, wrong types), When read, Then nothing from it is queued."""
    assert pending({ATTR_PENDING_REQUESTS: raw}) == []


def test_the_queue_is_kept_small_and_is_a_known_session_key():
    """Given more queued requests than allowed, When read, Then at most MAX_PENDING come back, and
    the hook keeps the attribute (it is one of its known keys) under its size cap."""
    many = [{"intent": "DisputeStatus", "text": "status " * 60, "label": "l" * 200}] * 5
    session = _clean_session({ATTR_PENDING_REQUESTS: json.dumps(many)})
    assert ATTR_PENDING_REQUESTS in KNOWN_SESSION_KEYS
    assert len(pending({ATTR_PENDING_REQUESTS: json.dumps(many)})) == MAX_PENDING
    assert ATTR_PENDING_REQUESTS in session


# ----------------------------------------------------------------- a word or two at a question
from intents.prompt_answers import keep_or_switch  # noqa: E402


@pytest.mark.parametrize("text", ["block", "the shell", "yesterday"])
def test_a_short_reply_lex_switched_away_goes_back_to_the_question(text):
    """Given the bot asked which payment to dispute, When Lex hands a one- or two-word reply to
    another intent, Then it is routed back to the question as its answer."""
    turn = _turn(text, intent="LostCard", session={"asked": "FileDispute:TransactionRef"})
    back = keep_or_switch(turn)
    assert (back.intent_name, back.slot_to_elicit, back.slots) == ("FileDispute", "TransactionRef", {"TransactionRef": text})


@pytest.mark.parametrize("text, intent", [("agent", "TalkToAgent"), ("thanks", "SmallTalk"), ("bye", "SmallTalk")])
def test_a_short_reply_that_is_clearly_a_new_request_switches(text, intent):
    """Given a question asked, When the reply is a request for a person or small talk, Then it is not kept."""
    turn = _turn(text, intent=intent, session={"asked": "FileDispute:TransactionRef"})
    assert keep_or_switch(turn).intent_name == intent


def test_a_card_stolen_mid_question_is_heard_at_once_but_not_inside_a_description():
    """Given the bot asked which payment, When the customer says their card was just stolen, Then the
    turn goes to LostCard; Given the bot asked what happened, Then the same words are the answer."""
    at_payment = _turn("wait, my card has just been stolen", intent="FileDispute",
                       session={"asked": "FileDispute:TransactionRef"}, slot_to_elicit="TransactionRef")
    at_description = _turn("my wallet was stolen and then this charge appeared", intent="FileDispute",
                           session={"asked": "FileDispute:Description"}, slot_to_elicit="Description")
    assert keep_or_switch(at_payment).intent_name == "LostCard"
    assert keep_or_switch(at_description).intent_name == "FileDispute"


# ----------------------------------------------------------------- words that overrule Lex's pick
from intents.multi_request import plan  # noqa: E402


@pytest.mark.parametrize("text, lex_intent, expected", [
    ("how much longer?", "LookupTransaction", "SmallTalk"),
    ("I was mugged and they took my cards", "FileDispute", "LostCard"),
    ("whats this paypal charge, not me", "LookupTransaction", "FileDispute"),
    ("i want to drop my claim", "FileDispute", "WithdrawDispute"),
])
def test_a_fresh_message_whose_words_overrule_lex_goes_to_what_they_say(text, lex_intent, expected):
    """Given a fresh message Lex gave to one intent, When its own words are small talk only, a lost
    card, a dispute to withdraw, or a payment disowned while asked about, Then it is routed to that intent, with no
    "two things" announcement."""
    planned = plan(_turn(text, intent=lex_intent))
    assert planned is not None and planned[0].intent_name == expected and planned[1] == ""


@pytest.mark.parametrize("text, lex_intent", [
    ("did my amazon payment go through", "LookupTransaction"),
    ("why was my card declined", "ExplainHold"),
])
def test_an_ordinary_single_request_is_left_to_lex(text, lex_intent):
    """Given one ordinary request, When planned, Then nothing is changed."""
    assert plan(_turn(text, intent=lex_intent)) is None


# ----------------------------------------------------------------- two payments, one intent
from intents.multi_request_payments import payment_key, split_by_payment  # noqa: E402


@pytest.mark.parametrize("text, parts", [
    ("dispute Netflix and also Amazon", ["dispute Netflix", "dispute Amazon"]),
    ("I don't recognise the netflix and amazon charges",
     ["I don't recognise the netflix charges", "I don't recognise the amazon charges"]),
    ("dispute the netflix one and the amazon one", ["dispute the netflix one", "dispute the amazon one"]),
    ("I don't recognise the paypal charge. I also don't recognise the amazon one",
     ["I don't recognise the paypal charge", "I also don't recognise the amazon one"]),
    ("dispute the netflix charge", ["dispute the netflix charge"]),
])
def test_a_payment_request_naming_two_merchants_is_cut_into_one_per_payment(text, parts):
    """Given a dispute that names two merchants side by side or in clauses of their own, When cut,
    Then each part names one payment and keeps the words around it; one merchant stays whole."""
    assert split_by_payment("FileDispute", text) == parts


@pytest.mark.parametrize("text, expected", [
    ("dispute Netflix and also Amazon", [("FileDispute", "netflix"), ("FileDispute", "amazon_mktp")]),
    ("i want to dispute the amazon charge and the paypal one", [("FileDispute", "amazon_mktp"), ("FileDispute", "paypal_seller")]),
    ("I don't recognise the paypal charge. I also don't recognise the amazon one",
     [("FileDispute", "paypal_seller"), ("FileDispute", "amazon_mktp")]),
])
def test_requests_are_told_apart_by_intent_and_payment_named(text, expected):
    """Given one intent asked for two payments, When split, Then there is one request per payment
    (they used to be merged by intent and the second was dropped); the same payment twice is one."""
    assert [(r.intent, payment_key(r.text)) for r in split_requests(text, _match)] == expected
    assert len(split_requests("i want to dispute the amazon charge and also the amzn one", _match)) <= 1  # one payment


def test_two_disputes_in_one_message_are_both_named_and_the_second_waits_redacted():
    """Given "dispute Netflix and also Amazon", When the turn is routed, Then both are named at once,
    Netflix runs on its own words and Amazon waits in the queue (re-checked on read)."""
    rec = Recorder(asks={"FileDispute"})
    decision = route_requests(_turn("dispute Netflix and also Amazon", intent="LookupTransaction"), rec)
    assert rec.ran == [("FileDispute", "dispute Netflix")]
    assert decision.messages[0] == "I can see 2 things there: I'll start with the Netflix charge, then look at the Amazon charge."
    assert pending(decision.session) == [{"intent": "FileDispute", "text": "dispute Amazon", "label": "the Amazon charge"}]


def test_more_payments_than_the_queue_holds_are_named_not_dropped():
    """Given four payments to dispute in one message, When routed, Then the first runs, two wait
    (the queue's limit) and the fourth is named back to ask about again, never dropped silently."""
    rec = Recorder(asks={"FileDispute"})
    decision = route_requests(_turn("dispute netflix, amazon, paypal and best buy", intent="FileDispute"), rec)
    assert [q["label"] for q in pending(decision.session)] == ["the Amazon charge", "the PayPal charge"]
    assert len(pending(decision.session)) == MAX_PENDING
    assert "please ask me about the Best Buy charge again" in decision.messages[0]
    assert decision.messages[0].startswith("I can see 4 things there")


def test_lex_slots_from_the_whole_message_are_not_given_to_the_first_request():
    """Given Lex filled the payment slot with both payments' words, When the first request runs on
    its own clause, Then it does not get the other payment's words in its slot."""
    seen = {}

    def handler(name):
        def run(turn):
            seen[name] = dict(turn.slots)
            return Decision(action="ElicitSlot", slot_to_elicit="X", messages=["?"], session=dict(turn.session))
        return run

    turn = _turn("i want to dispute the amazon charge and the paypal one", intent="FileDispute",
                 slots={"TransactionRef": "amazon charge and the paypal one"},
                 original_slots={"TransactionRef": "amazon charge and the paypal one"})
    route_requests(turn, handler)
    assert "paypal" not in str(seen["FileDispute"].get("TransactionRef")).lower()
