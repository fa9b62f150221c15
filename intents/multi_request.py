"""Several requests in one message: see them all, say so, handle one, then come back to the next.

Why: "my card got declined at Tesco and there's also a PayPal charge I don't recognise" is two
requests. Lex picks one intent for the whole message, so without this the second one was dropped
without a word. The message is cut into clauses at the seams customers use ("and also", "plus",
a full stop ...), each clause is recognised on its own, and when two or more name different
intents the customer is told at once which comes first and which next. The later ones wait in a
small queue in the session attributes (at most ``MAX_PENDING``, each a redacted, capped clause)
and the hook starts the next one as soon as the current one is finished, without being asked.
A goodbye with a request still waiting says so instead of dropping it.

Session attributes are client-controlled, so a queued entry is re-checked when read: only the
intents in ``QUEUEABLE`` (none that acts on the account without asking first), short strings only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.core.models import DisputeReason
from intents.dialog import ATTR_CANDIDATES, ATTR_LAST_TXN, ATTR_NO_MATCH, Decision, Turn, json_attr, set_json_attr
from intents.dispute_reasons import infer_reason
from intents.handoff import redacted
from intents.lost_card import reads_as_lost
from intents.multi_request_payments import PAYMENT_INTENTS, payment_key, payment_mentions, split_by_payment
from intents.small_talk import classify
from intents.talk_text import say
from intents.word_rules import intent_from_words, reads_as_withdrawal

ATTR_PENDING_REQUESTS = "pendingRequests"
MAX_PENDING = 2  # three requests in one message at most; Lex session attributes stay small
MAX_CLAUSE_CHARS = 200
MIN_CLAUSE_WORDS = 3  # "phone", "and my keys" are parts of one request, not requests
MIN_CLAUSE_SCORE = 0.38  # a clause must read as its intent at least as clearly as a whole message must
# LostCard never waits (it always goes first); the rest either only read or ask before they act.
QUEUEABLE = ("ExplainHold", "FileDispute", "LookupTransaction", "DisputeStatus", "WithdrawDispute",
             "TalkToAgent", "OutOfScope")
REQUESTS = ("LostCard",) + QUEUEABLE
URGENT_FIRST = ("LostCard",)

# Where one request ends and the next begins, as customers write it.
_SEAM = re.compile(
    r"(?:[.?!;]+\s+|\s*[.?!;]*\s*,?\s*\b(?:and\s+also|and\s+then|but\s+also|as\s+well\s+as|also|plus|n\s+also|"
    r"and(?=\s+(?:there'?s|theres|there\s+is|i|i'?m|i'?ve|my|what|why|how|did|can|could|where|wheres|someone|a|the)\b)|"
    r"n(?=\s+(?:there'?s|theres|i|my|what|why|how|did|can|where|wheres)\b))\s+)",
    re.I)
_SEAM_SPLIT = re.compile(f"({_SEAM.pattern})", re.I)  # keeps each seam, to join short pieces back as written
_LEAD = re.compile(r"^\s*(?:and|also|plus|but|n|,)\s+", re.I)

_MERCHANT_WORDS = {  # how customers write the big names, for the spoken label only
    "paypal": "PayPal", "amazon": "Amazon", "amzn": "Amazon", "netflix": "Netflix", "best buy": "Best Buy",
    "bestbuy": "Best Buy", "shell": "Shell", "uber": "Uber", "tesco": "Tesco", "delta": "Delta",
    "blue bottle": "Blue Bottle", "apple": "Apple", "spotify": "Spotify", "ebay": "eBay", "walmart": "Walmart",
}


@dataclass(frozen=True)
class Request:
    intent: str
    text: str
    label: str


def clauses(text: str) -> list[str]:
    """The message cut at the seams between requests (pieces may still be parts of one request).
    A piece too short to be a request stays joined, seam and all, to its neighbour."""
    bits = _SEAM_SPLIT.split(text or "")
    pieces, seams = bits[0::2], bits[1::2] + [""]
    out: list[str] = []
    carry = ""
    for i, raw in enumerate(pieces):
        part = carry + raw
        carry = ""
        if len(re.findall(r"[\w']+", part)) < MIN_CLAUSE_WORDS:  # "there's" | "also a charge ...": one clause
            if i + 1 < len(pieces):
                carry = part + seams[i]
                continue
            if out:
                out[-1] = out[-1] + seams[i - 1] + part
                continue
        out.append(part)
    cleaned = (_LEAD.sub("", p).strip(" ,.;") for p in out)
    return [p for p in cleaned if p]


def _merchant(text: str) -> str | None:
    """The first big name the words mention, for the label only (the handlers do the real search)."""
    low = text.lower()
    hits = [(m.start(), name) for word, name in _MERCHANT_WORDS.items()
            for m in [re.search(rf"\b{re.escape(word)}\b", low)] if m]
    return min(hits)[1] if hits else None


def names_a_payment(text: str) -> bool:
    """The clause points at a payment of its own (a merchant, an amount), not at "it"."""
    return _merchant(text) is not None or payment_key(text) is not None or bool(re.search(r"\d", text))


def label_for(intent: str, text: str) -> str:
    """How the request is named back to the customer ("the PayPal charge")."""
    named = payment_mentions(text)
    return say(f"multi_label_{intent}", merchant=_merchant(text) or (named[0].label if named else ""))


def _intent_of(clause: str, matcher, whole: bool = True) -> str | None:
    named = intent_from_words(clause)
    if named in REQUESTS:
        return named
    if matcher is None:
        return None
    if whole and len(payment_mentions(clause)) > 1:
        # "dispute Netflix and also Amazon" reads weakly as a whole; each payment's part reads clearly
        parts = {_intent_of(part, matcher, whole=False) for part in split_by_payment(PAYMENT_INTENTS[0], clause)}
        if len(parts) == 1 and parts <= set(PAYMENT_INTENTS):
            return parts.pop()
    if len(re.findall(r"[\w']+", clause)) < (MIN_CLAUSE_WORDS if whole else 2):
        return None
    guess = matcher(clause)
    if guess and guess.confident and guess.score >= MIN_CLAUSE_SCORE and guess.intent in REQUESTS:
        return guess.intent
    return None


def split_requests(text: str, matcher) -> list[Request]:
    """The distinct requests in one message, in the order written; a piece that names no request
    of its own belongs to the request before it (or after it, at the start)."""
    found: list[tuple[str | None, str]] = []
    for piece in clauses(text):
        intent = _intent_of(piece, matcher)
        if found and (intent is None or intent == found[-1][0]) and not _another_payment(found[-1], piece):
            found[-1] = (found[-1][0], f"{found[-1][1]}, {piece}")
        elif found and found[-1][0] is None:
            found[-1] = (intent, f"{found[-1][1]}, {piece}")
        else:
            found.append((intent or found[-1][0] if found else intent, piece))
    out: list[Request] = []
    seen: set[tuple[str, str | None]] = set()
    for intent, piece in found:
        for part in split_by_payment(intent, piece):
            key = (intent, payment_key(part))  # one request per intent and payment named
            if intent is not None and key not in seen:
                seen.add(key)
                out.append(Request(intent, part[:MAX_CLAUSE_CHARS], label_for(intent, part)))
    return out


def _another_payment(previous: tuple[str | None, str], piece: str) -> bool:
    """ "The amazon charge, and the paypal one": a second payment for the same request intent."""
    intent, text = previous
    if intent not in PAYMENT_INTENTS:
        return False
    before, now = payment_key(text), payment_key(piece)
    return before is not None and now is not None and now != before


def is_fresh_request(turn: Turn) -> bool:
    """A new message starting a request: not an answer to a question the bot asked."""
    return (turn.invocation_source == "DialogCodeHook" and turn.slot_to_elicit is None
            and turn.confirmation_state == "None" and not turn.session.get("asked"))


def plan(turn: Turn) -> tuple[Turn, str] | None:
    """When the message holds several requests: the turn for the first one (its own clause, its
    intent) with the rest queued in its session, and the sentence saying so. None otherwise."""
    if not is_fresh_request(turn):
        return None
    text = turn.transcript or ""
    long_enough = len(text.split()) >= 2 * MIN_CLAUSE_WORDS and len(clauses(text)) > 1
    several_payments = len(payment_mentions(text)) > 1  # "dispute Netflix and also Amazon"
    requests = split_requests(text, turn.match_utterances) if long_enough or several_payments else []
    if len(requests) < 2:
        named = words_overrule(turn)
        return (named, "") if named is not None else None
    requests.sort(key=lambda r: r.intent not in URGENT_FIRST)  # stable: otherwise the order written
    first, waiting = requests[0], [r for r in requests[1:] if r.intent in QUEUEABLE]
    rest, left = waiting[:MAX_PENDING], waiting[MAX_PENDING:]
    if not rest:
        return None
    session = dict(turn.session)
    queue = [{"intent": r.intent, "text": redacted(r.text), "label": r.label} for r in rest] + pending(turn.session)
    set_json_attr(session, ATTR_PENDING_REQUESTS, queue[:MAX_PENDING])
    if first.intent == turn.intent_name:
        # Lex filled the slots from the whole message: keep those the first request's own words hold
        kept = {k: v for k, v in turn.slots.items() if v is None or _said_in(turn.original_slots.get(k) or v, first.text)}
        first_turn = turn.with_(transcript=first.text, session=session, slots=kept,
                                original_slots={k: v for k, v in turn.original_slots.items() if k in kept})
    else:
        first_turn = turn.with_(intent_name=first.intent, transcript=first.text, slots={}, original_slots={},
                                session=session)
    ack = say("multi_ack", first=first.label, rest=[r.label for r in rest], total=1 + len(waiting))
    if left:  # never dropped without a word: the customer hears which to ask about again
        ack += " " + say("multi_too_many", labels=[r.label for r in left])
    return first_turn, ack


def _said_in(value: str, text: str) -> bool:
    return " ".join(str(value).lower().split()) in " ".join(text.lower().split())


def words_overrule(turn: Turn) -> Turn | None:
    """(For a message holding one request.) One request whose own words overrule the intent Lex picked: nothing but small talk; a lost or
    stolen card ("I was mugged and they took my cards" is not a dispute first); a dispute to withdraw
    named as such ("drop my claim"); a payment disowned while asked about ("what's this PayPal
    charge, not me" is a dispute, not a lookup)."""
    text = turn.transcript or ""
    if classify(text) is not None and turn.intent_name not in ("SmallTalk", "VerifyIdentity"):
        return turn.with_(intent_name="SmallTalk", slots={}, original_slots={})  # "how much longer?" is not a lookup
    if reads_as_lost(text) and turn.intent_name not in ("LostCard", "VerifyIdentity"):
        return turn.with_(intent_name="LostCard", slots={}, original_slots={})
    if reads_as_withdrawal(text) and turn.intent_name in ("FileDispute", "DisputeStatus"):
        return turn.with_(intent_name="WithdrawDispute", slots={}, original_slots={})  # "drop my claim" opens nothing
    if turn.intent_name == "LookupTransaction" and infer_reason(text) is DisputeReason.unauthorised:
        return turn.with_(intent_name="FileDispute", slots={}, original_slots={})
    return None


def pending(session: dict[str, str]) -> list[dict[str, str]]:
    """The queued requests, each re-checked (the client can send any session attribute)."""
    raw = json_attr(session, ATTR_PENDING_REQUESTS, [])
    out = []
    for item in raw if isinstance(raw, list) else []:
        if (isinstance(item, dict) and item.get("intent") in QUEUEABLE and isinstance(item.get("text"), str)
                and isinstance(item.get("label"), str)):
            out.append({"intent": item["intent"], "text": item["text"][:MAX_CLAUSE_CHARS],
                        "label": item["label"][:80]})
    return out[:MAX_PENDING]


def finished(decision: Decision) -> bool:
    """The current request is done: nothing asked, nothing handed on."""
    return decision.redirect is None and decision.action in ("Close", "ElicitIntent")


def next_request(turn: Turn, decision: Decision) -> tuple[Turn, str] | None:
    """When ``decision`` finishes a request and another waits: the turn that starts it, and the
    sentence that leads into it. A goodbye is not the moment: see ``remind_at_goodbye``."""
    session = dict(decision.session or turn.session)
    queue = pending(session)
    if not queue or not finished(decision) or decision.facts.get("small_talk") == "goodbye":
        return None
    head, rest = queue[0], queue[1:]
    set_json_attr(session, ATTR_PENDING_REQUESTS, rest or None)
    session.pop("asked", None)
    if names_a_payment(head["text"]):  # "the PayPal charge" is not the payment the last request was about
        for key in (ATTR_LAST_TXN, ATTR_CANDIDATES, ATTR_NO_MATCH):
            session.pop(key, None)
    nxt = turn.with_(intent_name=head["intent"], transcript=head["text"], slots={}, original_slots={},
                     slot_to_elicit=None, confirmation_state="None", session=session,
                     invocation_source="DialogCodeHook")
    return nxt, say("multi_next", label=head["label"])


def remind_at_goodbye(turn: Turn, decision: Decision) -> Decision:
    """A customer leaving with a request still queued hears that it is still open, once."""
    session = dict(decision.session or turn.session)
    queue = pending(session)
    if not queue or decision.facts.get("small_talk") != "goodbye":
        return decision
    set_json_attr(session, ATTR_PENDING_REQUESTS, None)
    decision.session = session
    decision.messages.insert(0, say("multi_left", labels=[q["label"] for q in queue]))
    decision.facts["pending_dropped_with_notice"] = [q["intent"] for q in queue]
    return decision


ANYTHING_ELSE = ("Is there anything else I can help with?",)


def chain(first: Decision, second: Decision, lead_in: str, intent: str) -> Decision:
    """One answer for the finished request and the next one started: the first one's words (minus
    its "anything else?"), the lead-in, then the next request's step, which drives the dialog."""
    words = [m for m in first.messages if m not in ANYTHING_ELSE]
    second.messages[:0] = words + [lead_in]
    if second.intent_name is None:
        second.intent_name = intent
    second.facts = {**first.facts, **second.facts, "came_back_to": intent}
    return second
