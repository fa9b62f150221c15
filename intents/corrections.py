"""Corrections: "no, the shell one", "not that one, the other one", "wrong payment, I meant the uber one".

After the assistant settled on a payment (looked it up, explained its hold, started a dispute on
it), the customer may say it picked the wrong one. Answered as a new request, such a message is
lost ("the shell one" is not a reason for a dispute, and a lookup is already closed), so the hook
reads it first: a correction cue plus a different payment (named in words, or "the other one" of
those offered) hands the turn back to the intent that proposed the payment, with the new payment
in its choice slot. Anything else is not a correction and routes as usual.
"""
from __future__ import annotations

import re

from chalicelib.core.models import DisputeReason, Transaction
from intents.dialog import ATTR_CANDIDATES, ATTR_HISTORY, ATTR_LAST_TXN, ATTR_OTHERS, Decision, Redirect, Turn, json_attr
from intents.replies import day, money, render

# Which slot of each payment intent takes a payment handed over by id.
CHOICE_SLOT = {"LookupTransaction": "TransactionChoice", "ExplainHold": "HoldChoice", "FileDispute": "TransactionRef"}
MAX_WORDS = 14  # a correction is short; a long message is a new request

_CUE = re.compile(
    r"^\s*(?:(?:no+|nope|nah|not quite|wrong(?: one| payment| charge| transaction)?|not (?:that|this)(?: one)?|"
    r"that'?s not (?:it|the one|right|the right one|what i meant)|that is not (?:it|the one)|(?:sorry|oops|actually|wait),?"
    r"|none of (?:those|these|them)|not (?:those|these|any of (?:those|these|them))|neither(?: of (?:those|these|them))?"
    r"(?: no)?|i meant|i mean|i was talking about|i'?m talking about)\b[\s,.!-]*)+", re.I)
_OTHER = re.compile(r"\b(?:the )?other (?:one|payment|charge|transaction)\b|\bthe other\s*[.!]*$|\bnot (?:that|this) one\b", re.I)
_REQUEST = re.compile(r"\b(dispute|why|status|refund|block|freeze|agent|human|person|cancel|withdraw)\b", re.I)


def _previous_payment_intent(turn: Turn) -> str | None:
    history = json_attr(turn.session, ATTR_HISTORY, []) or []
    if not isinstance(history, list):
        return None
    for name in reversed([str(h) for h in history]):
        if name in CHOICE_SLOT:
            return name
    return None


def _other_ids(turn: Turn) -> list[str]:
    """The payments offered beside the current one, as remembered (session attributes come from the
    client: anything but a short list of strings reads as none)."""
    ids = json_attr(turn.session, ATTR_OTHERS, [])
    return [i for i in ids[:5] if isinstance(i, str)] if isinstance(ids, list) else []


def _others(turn: Turn, current: Transaction, intent: str) -> list[Transaction]:
    store, cid = turn.services.store, turn.identity.customer_id
    found = [t for t in (store.transactions.get(cid, i[:64]) for i in _other_ids(turn)) if t]
    if not found and intent == "ExplainHold":
        from intents.explain_hold import active_holds

        found = [t for t, _ in active_holds(turn) if t.txn_id != current.txn_id]
    return [t for t in found if t.txn_id != current.txn_id]


def _by_name_only(turn: Turn) -> bool:
    """In a dispute, "actually it was 12 dollars" corrects the disputed amount (file_dispute), not the
    payment: there a payment is switched only when named by merchant or kind."""
    return turn.intent_name == "FileDispute"


def _named(turn: Turn, rest: str, current: Transaction) -> list[Transaction]:
    from intents.payment_picker import find_transactions_in_text

    if len(rest.split()) < 1:
        return []
    return [t for t in find_transactions_in_text(turn, rest, named_only=_by_name_only(turn)) if t.txn_id != current.txn_id]


def correct_payment(turn: Turn) -> Decision | None:
    """A hand-over to the intent that proposed a payment, now with the one the customer meant; or None."""
    text = (turn.transcript or "").strip()
    if not text or len(text.split()) > MAX_WORDS or not turn.identity.customer_id:
        return None
    cue = _CUE.match(text)
    rest = text[cue.end():] if cue else text
    offered = json_attr(turn.session, ATTR_CANDIDATES, None)
    if offered:  # a "which one?" is open: only "none of those, the uber one" is a correction of it
        return _instead_of_list(turn, rest, offered) if cue and not _REQUEST.search(rest) else None
    last = turn.session.get(ATTR_LAST_TXN)
    intent = _previous_payment_intent(turn)
    if not last or intent is None:
        return None  # nothing proposed yet
    current = turn.services.store.transactions.get(turn.identity.customer_id, last[:64])
    if current is None:
        return None
    if _OTHER.search(text):
        rest_named = _named(turn, _OTHER.sub(" ", rest), current)
        targets = rest_named or _others(turn, current, intent)
    elif cue and not _REQUEST.search(rest):
        targets = _named(turn, rest, current)
    else:
        return None
    if not targets:
        return None
    if turn.intent_name in CHOICE_SLOT and turn.intent_name != intent and _REQUEST.search(text):
        intent = turn.intent_name  # "no, I want to dispute the shell one": the new request decides
    return _switch(turn, intent, current, targets)


def _instead_of_list(turn: Turn, rest: str, offered) -> Decision | None:
    """"None of those, the netflix one" while a list is open: the payments named instead."""
    from intents.payment_picker import choice_decision, find_transactions_in_text

    intent = turn.intent_name if turn.intent_name in CHOICE_SLOT else _previous_payment_intent(turn)
    listed = {str(i) for i in offered} if isinstance(offered, list) else set()
    targets = [t for t in find_transactions_in_text(turn, rest, named_only=_by_name_only(turn)) if t.txn_id not in listed]
    if intent is None or not targets:
        return None
    if len(targets) > 1:
        d = choice_decision(turn, CHOICE_SLOT[intent], targets, render("correction_which"), slots={})
        d.intent_name = intent
        return d
    target = targets[0]
    session = _remember_only(turn.session, target)
    note = render("correction_switch", amount=money(target.amount_minor, target.currency),
                  merchant=target.merchant_name, when=day(target.occurred_at))
    return Decision.redirect_to(Redirect(intent=intent, slots={CHOICE_SLOT[intent]: target.txn_id}, session=session,
                                         messages=[note], facts={"corrected_to": target.txn_id}))


def _remember_only(session: dict[str, str], target: Transaction) -> dict[str, str]:
    from intents.payment_picker import remember_txn

    return remember_txn({k: v for k, v in session.items() if k != ATTR_CANDIDATES}, target, others=[])


def _switch(turn: Turn, intent: str, current: Transaction, targets: list[Transaction]) -> Decision:
    from intents.payment_picker import choice_decision, remember_txn

    if len(targets) > 1:
        session = remember_txn(turn.session, current)
        d = choice_decision(turn.with_(session=session), CHOICE_SLOT[intent], targets, render("correction_which"), slots={})
        d.intent_name = intent
        return d
    target = targets[0]
    others = [current.txn_id] + [i for i in _other_ids(turn) if i not in (target.txn_id, current.txn_id)]
    session = remember_txn(turn.session, target, others=others)
    slots: dict[str, str | None] = {CHOICE_SLOT[intent]: target.txn_id}
    reason = turn.slot("DisputeReason") if intent == "FileDispute" and turn.intent_name == "FileDispute" else None
    if reason in {r.value for r in DisputeReason}:
        slots["DisputeReason"] = reason  # why it is disputed has not changed, only which payment
    when = day(target.occurred_at)
    if target.occurred_at.date() == current.occurred_at.date():
        when += f" at {target.occurred_at:%H:%M} UTC"  # the other of a duplicate charge differs only in time
    note = render("correction_switch", amount=money(target.amount_minor, target.currency),
                  merchant=target.merchant_name, when=when)
    return Decision.redirect_to(Redirect(intent=intent, slots=slots, session=session, messages=[note],
                                         facts={"corrected_from": current.txn_id, "corrected_to": target.txn_id}))
