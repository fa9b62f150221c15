"""LookupTransaction: find a payment by merchant, amount, date or card and explain it."""
from __future__ import annotations

from chalicelib.core.models import TxnStatus
from intents.dialog import ATTR_NO_MATCH, Button, Card, Decision, Turn
from intents.replies import render
from intents.spec import IntentSpec, SlotSpec, SlotTypeSpec, SlotTypeValue
from intents.handoff import escalate
from intents.identity_gate import require_identity
from intents.payment_picker import chosen_by_id, choice_decision, find_transactions, find_transactions_in_text, remember_txn, resolve_choice, txn_detail
from intents.slots import criteria_from_turn

MERCHANT_EXAMPLES = ["Amazon", "Netflix", "Uber", "Starbucks", "Shell", "Walmart", "Apple", "PayPal", "Best Buy", "Blue Bottle"]

SPEC = IntentSpec(
    name="LookupTransaction",
    description="Find a card payment and explain what it is.",
    sample_utterances=[
        "find a transaction",
        "look up a payment",
        "what is this charge",
        "what is this payment on my statement",
        "I want to check a payment",
        "can you find my payment to {Merchant}",
        "show me the {Merchant} charge",
        "what was the {Amount} charge",
        "look up the payment from {TransactionDate}",
        "find the {Merchant} payment from {TransactionDate}",
        "what is {Merchant} on my statement",
        "I see a charge I want to check",
        "check my recent transactions",
        "did my payment to {Merchant} go through",
        "what did I pay {Merchant}",
        "find the charge on my card ending {CardLast4}",
        "there's a payment I want to look at",
        "what's this transaction",
        "search my transactions",
        "show my card payment",
        "is there a payment to {Merchant}",
        "did {Merchant} charge me",
        # everyday phrasing (issue 13 part B): street words, slang, UK and US wording
        'how much did I spend at {Merchant}',
        'how much have I spent on {Merchant}',
        'what did I spend yesterday',
        'did my {Merchant} payment come out',
        'has {Merchant} taken the money',
        'show me my last payment',
        'what have I paid recently',
        'payment to {Merchant} on {TransactionDate}',
        'check my {Merchant} payment',
        'check the payment at {Merchant}',
        'check the payment from {TransactionDate}',
    ],
    slot_types=[
        SlotTypeSpec(
            name="MerchantName",
            description="Merchant names; any value accepted (resolved by the code hook).",
            values=[SlotTypeValue(value=m) for m in MERCHANT_EXAMPLES],
            resolution="ORIGINAL_VALUE",
        )
    ],
    slots=[
        SlotSpec(name="Merchant", slot_type="MerchantName", prompt="Which payment are you looking for? Tell me the merchant, the amount or the date.",
                 required=False, sample_utterances=["{Merchant}", "the one from {Merchant}", "it was {Merchant}"]),
        SlotSpec(name="Amount", slot_type="AMAZON.Number", prompt="How much was it?", required=False),
        SlotSpec(name="TransactionDate", slot_type="AMAZON.Date", prompt="When was it?", required=False),
        SlotSpec(name="CardLast4", slot_type="AMAZON.AlphaNumeric", prompt="Which card, by its last four digits?", required=False),
        SlotSpec(name="TransactionChoice", slot_type="AMAZON.AlphaNumeric", prompt="Which one is it? Say its number.", required=False),
    ],
)

NEXT_STEPS = Card(
    title="What would you like to do?",
    buttons=(
        Button(text="Dispute this payment", value="I want to dispute this payment"),
        Button(text="Why was it held?", value="Why was my payment held"),
        Button(text="Talk to an agent", value="Talk to an agent"),
    ),
)


def handle(turn: Turn) -> Decision:
    gate = require_identity(turn)
    if gate:
        return gate

    direct = chosen_by_id(turn, "TransactionChoice")  # handed over by a correction
    if direct:
        return _found(turn, direct)
    if turn.slot_to_elicit == "TransactionChoice":
        chosen = resolve_choice(turn, turn.slot("TransactionChoice") or turn.transcript)
        if chosen:
            return _found(turn, chosen)
        return choice_decision(turn, "TransactionChoice", _candidates(turn), render("choose_again"))

    crit = criteria_from_turn(turn)
    if crit.empty:
        opening = find_transactions_in_text(turn, turn.transcript) if turn.slot_to_elicit is None else []
        if len(opening) == 1:
            return _found(turn, opening[0])
        if opening:
            return choice_decision(turn, "TransactionChoice", opening, render("lookup_several", n=len(opening)))
        return Decision(action="ElicitSlot", slot_to_elicit="Merchant", slots=dict(turn.slots),
                        messages=[render("lookup_ask")], session=dict(turn.session))
    txns = find_transactions(turn, crit)
    if not txns:
        misses = int(turn.session.get(ATTR_NO_MATCH, "0") or 0) + 1
        if misses >= 3:
            return escalate(turn, "no_match", render("lookup_give_up"), {"criteria": crit.describe()})
        session = dict(turn.session)
        session[ATTR_NO_MATCH] = str(misses)
        cleared = {k: None for k in turn.slots}
        return Decision(action="ElicitSlot", slot_to_elicit="Merchant", slots=cleared, session=session,
                        messages=[render("lookup_none", criteria=crit.describe())])
    if len(txns) == 1:
        return _found(turn, txns[0])
    return choice_decision(turn, "TransactionChoice", txns, render("lookup_several", n=min(len(txns), 5)))


def _candidates(turn: Turn):
    from intents.dialog import ATTR_CANDIDATES, json_attr

    ids = json_attr(turn.session, ATTR_CANDIDATES, []) or []
    store, cid = turn.services.store, turn.identity.customer_id
    return [t for t in (store.transactions.get(cid, str(i)) for i in ids[:5]) if t]


def _found(turn: Turn, txn) -> Decision:
    session = remember_txn(turn.session, txn)
    session.pop(ATTR_NO_MATCH, None)
    messages = [txn_detail(txn)]
    fraud = turn.services.store.fraud.get_for_transaction(turn.identity.customer_id, txn.txn_id)
    if fraud and not fraud.released:
        messages.append(render("lookup_held_hint"))
    elif txn.status == TxnStatus.pending:
        messages.append(render("lookup_pending_hint"))
    messages.append(render("lookup_next"))
    return Decision(action="Close", intent_state="Fulfilled", messages=messages, session=session, card=NEXT_STEPS,
                    slots=dict(turn.slots), facts={"txn_id": txn.txn_id})
