"""FileDispute: collect the facts, check eligibility, confirm, and open the case."""
from __future__ import annotations

import re
from datetime import timedelta

from chalicelib.cases.disputes import eligibility, merchant_first_until, open_case, timeline
from chalicelib.core.models import DisputeReason, Transaction
from chalicelib.core.pci import guard_text
from chalicelib.core.settings import get_settings
from intents.dialog import ATTR_NO_MATCH, Button, Card, Decision, Turn
from intents.replies import day, money, render
from intents.spec import IntentSpec, SlotSpec, SlotTypeSpec, SlotTypeValue
from intents.dialog import now_of
from intents.handoff import escalate
from intents.identity_gate import require_identity
from intents.payment_picker import choice_decision, find_transactions, find_transactions_in_text, last_txn, remember_txn, resolve_choice
from intents.slots import criteria_from_turn, parse_amount_text
from intents.answers import (CONFIRM_ACTION, MERCHANT_CONTACTED, Answer, answer_text, clarified_before, confirmation_answer,
                             forget_clarified, mark_clarified, read_answer)
from intents.dispute_change import apply_change, ask_what_to_change
from intents.dispute_reasons import REASON_LABELS, REASON_PHRASES, REASONS, infer_reason, validate_dispute_reason

SPEC = IntentSpec(
    name="FileDispute",
    description="File a dispute (chargeback) on a card payment.",
    sample_utterances=[
        "I want to dispute a charge",
        "dispute a transaction",
        "I want to dispute this payment",
        "I don't recognise this charge",
        "I don't recognize a payment on my card",
        "there's a charge I didn't make",
        "someone used my card",
        "I was charged twice",
        "I was charged twice by {TransactionRef}",
        "I want to dispute the {TransactionRef} payment",
        "the merchant charged me the wrong amount",
        "I never received my order",
        "I returned the item but didn't get a refund",
        "I cancelled my subscription but they still charged me",
        "I want a chargeback",
        "open a dispute",
        "the item was not as described",
        "report a fraudulent transaction",
        "I want my money back for a payment",
        "raise a dispute about {TransactionRef}",
        "I want to dispute the {TransactionRef}",
        "dispute the {TransactionRef}",
        "I was charged twice at {TransactionRef}",
        "I don't recognise a charge from {TransactionRef}",
        "I don't recognize the {TransactionRef} charge",
        "there's a charge from {TransactionRef} I didn't make",
        # everyday phrasing (issue 13 part B): street words, slang, UK and US wording
        'this payment is fraud',
        'that charge is a scam',
        "I've been scammed",
        'I was ripped off by a seller',
        'a dodgy charge on my account',
        'I never made this purchase',
        "I didn't authorise this payment",
        'unauthorized charge on my card',
        "this transaction isn't mine",
        "this charge wasn't me",
        'reverse the charge',
        'can you reverse a payment',
        "I want a refund for a payment I didn't make",
        'how do I get my money back',
        'get my money back from {TransactionRef}',
        'charge back the payment',
        'someone is using my card',
        'I think my card was used by someone else',
        'random charge on my statement',
        'never heard of this company but they charged me',
        'I never bought anything from {TransactionRef}',
        'my order never arrived',
        'the parcel never turned up',
        'I paid but never got the goods',
        'they took my money and sent nothing',
        'I was billed twice for the same thing',
        'they charged me more than the price',
        "a bogus payment on my card",
        "that's a fake charge",
        "a payment I know nothing about",
        "I never paid these people",
    ],
    slot_types=[
        SlotTypeSpec(
            name="PaymentDescription",
            description="How a customer describes a payment (merchant, amount, date); resolved by the code hook.",
            values=[SlotTypeValue(value=v) for v in ("the Amazon payment", "the Netflix charge", "the Uber payment",
                                                     "the 42.99 payment", "yesterday's payment")],
            resolution="ORIGINAL_VALUE",
        ),
        SlotTypeSpec(
            name="DisputeReasonType",
            description="Card-network dispute reason families.",
            values=[SlotTypeValue(value=k, synonyms=v) for k, v in REASONS.items()],
        ),
        SlotTypeSpec(
            name="DisputeChangeType",
            description="Which detail of a dispute the customer wants to correct.",
            values=[
                SlotTypeValue(value="payment", synonyms=["transaction", "the payment", "wrong payment", "charge"]),
                SlotTypeValue(value="reason", synonyms=["the reason", "what went wrong"]),
                SlotTypeValue(value="amount", synonyms=["the amount", "how much", "disputed amount"]),
                SlotTypeValue(value="description", synonyms=["the description", "what happened", "details"]),
                SlotTypeValue(value="cancel", synonyms=["nothing", "stop", "never mind", "forget it", "don't file"]),
            ],
        ),
    ],
    slots=[
        SlotSpec(name="TransactionRef", slot_type="PaymentDescription",
                 prompt="Which payment do you want to dispute? Tell me the merchant, amount or date."),
        SlotSpec(name="DisputeReason", slot_type="DisputeReasonType", prompt="What went wrong with this payment?"),
        SlotSpec(name="DisputedAmount", slot_type="AMAZON.FreeFormInput", prompt="How much are you disputing?"),
        SlotSpec(name="MerchantContacted", slot_type="YesNo", prompt="Have you contacted the merchant about it?"),
        SlotSpec(name="Description", slot_type="AMAZON.FreeFormInput", prompt="Briefly, what happened?"),
        SlotSpec(name="Change", slot_type="DisputeChangeType", required=False,
                 prompt="What would you like to change: the payment, the reason, the amount or the description?"),
    ],
    confirmation_prompt="Shall I file this dispute?",
    declination_response="OK, I haven't filed anything.",
)

REASON_CARD = Card(title="What went wrong?", buttons=tuple(Button(label, key) for key, label in list(REASON_LABELS.items())[:5]))
YES_NO_CARD = Card(title="Merchant contacted?", buttons=(Button("Yes", "yes"), Button("No", "no")))
AGENT_CARD = Card(title="Anything else?", buttons=(Button("Talk to an agent", "Talk to an agent"),))
CONFIRM_CARD = Card(title="File this dispute?", buttons=(Button("Yes, file it", "yes"), Button("No", "no")))
MAX_DESCRIPTION = 1000


def validate_disputed_amount(value: str | None, txn: Transaction) -> int | None:
    if not value:
        return None
    if re.search(r"\b(all|full|whole|everything|entire|total)\b", value, re.I):
        return txn.amount_minor
    amount = parse_amount_text(value)
    if amount is None or amount <= 0 or amount > txn.amount_minor:
        return None
    return amount


def _ask(turn: Turn, slot: str, messages: list[str], slots: dict, card: Card | None = None) -> Decision:
    slots = dict(slots)
    slots[slot] = None
    return Decision(action="ElicitSlot", slot_to_elicit=slot, slots=slots, messages=messages, session=dict(turn.session), card=card)


def _unclear(turn: Turn, txn: Transaction, slot: str, question: str, slots: dict, card: Card, confirm: bool = False) -> Decision:
    """One short clarifying question; a second unclear answer goes to a person instead of looping."""
    if clarified_before(turn, slot):
        return escalate(turn, "unclear_answer", render("unclear_handoff"),
                        {"txn_id": txn.txn_id, "question": slot or "confirm_dispute", "reason": slots.get("DisputeReason")})
    session = mark_clarified(turn.session, turn, slot)
    if confirm:
        return Decision(action="ConfirmIntent", slots=slots, session=session, messages=[question], card=card)
    return _ask(turn.with_(session=session), slot, [question], slots, card)


def _resolve_txn(turn: Turn) -> tuple[Transaction | None, Decision | None]:
    store, cid = turn.services.store, turn.identity.customer_id
    ref = turn.slot("TransactionRef")
    if ref:
        direct = store.transactions.get(cid, ref[:64])
        if direct:
            return direct, None
    if turn.slot_to_elicit == "TransactionRef" and turn.session.get("candidates"):
        chosen = resolve_choice(turn, ref or turn.transcript)
        if chosen:
            return chosen, None
    if ref:
        crit = criteria_from_turn(turn, text_slot="TransactionRef")
        if crit.empty:
            return None, _ask(turn, "TransactionRef", [render("dispute_ask_txn")], turn.slots)
        txns = find_transactions(turn, crit)
        if len(txns) == 1:
            return txns[0], None
        if len(txns) > 1:
            return None, choice_decision(turn, "TransactionRef", txns, render("dispute_which_of"))
        misses = int(turn.session.get(ATTR_NO_MATCH, "0") or 0) + 1
        if misses >= 3:
            return None, escalate(turn, "no_match", render("lookup_give_up"))
        d = _ask(turn, "TransactionRef", [render("lookup_none", criteria=f"matching “{guard_text(ref)[:60]}”")], turn.slots)
        d.session[ATTR_NO_MATCH] = str(misses)
        return None, d
    named = find_transactions_in_text(turn, turn.transcript, named_only=True) if turn.slot_to_elicit is None else []
    remembered = None if named else last_txn(turn)  # "the paypal charge wasn't me" wins over the payment just discussed
    if remembered:
        return remembered, None
    if turn.slot_to_elicit is None:
        # First turn: the opening sentence may already name the payment in words Lex did not
        # map to the slot ("charged twice at blue bottle"). Use it only if it finds payments.
        txns = named or find_transactions_in_text(turn, turn.transcript)
        if len(txns) == 1:
            return txns[0], None
        if len(txns) > 1:
            return None, choice_decision(turn, "TransactionRef", txns, render("dispute_which_of"))
    return None, _ask(turn, "TransactionRef", [render("dispute_ask_txn")], turn.slots)


_CORRECTION = re.compile(r"^\s*(?:actually|sorry|oops|no,?\s+wait|wait|correction|i meant|change (?:the amount|it) to|"
                         r"make (?:it|that))\b", re.I)


MAX_CORRECTION_WORDS = 8


def _inline_correction(turn: Turn) -> tuple[Turn, str | None]:
    """ "Actually it was $12" while answering a later question corrects the amount in place.

    Only the disputed amount is corrected this way (the detail customers most often get wrong);
    the question being answered is asked again, since the message was not an answer to it."""
    text = turn.transcript or ""
    # Short messages only: a longer answer that happens to start with "sorry" is an answer.
    if len(text.split()) > MAX_CORRECTION_WORDS or not _CORRECTION.search(text) or not turn.slot("DisputedAmount"):
        return turn, None
    if turn.slot_to_elicit in ("DisputedAmount", "TransactionRef", "DisputeReason", "Change"):
        return turn, None
    from intents.slots import amount_in_phrase

    amount = amount_in_phrase(turn.transcript)
    if amount is None:
        return turn, None
    slots = {**turn.slots, "DisputedAmount": f"{amount / 100:.2f}"}
    if turn.slot_to_elicit:
        slots[turn.slot_to_elicit] = None
    return (turn.with_(slots=slots, confirmation_state="None", slot_to_elicit=None, transcript=""),
            render("dispute_amount_corrected", amount=money(amount)))


def handle(turn: Turn) -> Decision:
    gate = require_identity(turn)
    if gate:
        return gate
    turn, note = _inline_correction(turn)
    opening = turn.slot_to_elicit is None and turn.confirmation_state == "None"
    decision = _handle(turn)
    if opening:
        _name_the_payment(turn, decision)
    if note:
        decision.messages.insert(0, note)
    return decision


def _name_the_payment(turn: Turn, decision: Decision) -> None:
    """A payment found from the opening words is named before the next question, so the customer
    can see it is the one they meant (the reason question names it already)."""
    ref = decision.slots.get("TransactionRef")
    if decision.action != "ElicitSlot" or decision.slot_to_elicit in (None, "TransactionRef", "DisputeReason") or not ref:
        return
    txn = turn.services.store.transactions.get(turn.identity.customer_id, ref)
    if txn is not None:
        decision.messages.insert(0, render("dispute_about", txn=_txn_phrase(txn)))


def _handle(turn: Turn) -> Decision:
    if not turn.slot("DisputeReason"):
        inferred = infer_reason(turn.transcript)
        if inferred:  # "I don't recognise this charge" already says why: don't ask again
            turn = turn.with_(slots={**turn.slots, "DisputeReason": inferred.value})
    if turn.slot_to_elicit == "Change" or turn.slot("Change"):
        corrected = apply_change(turn)
        if isinstance(corrected, Decision):
            return corrected
        turn = corrected
    txn, decision = _resolve_txn(turn)
    if decision:
        return decision
    assert txn is not None
    settings = get_settings()
    now = now_of(turn)
    slots = dict(turn.slots)
    slots["TransactionRef"] = txn.txn_id
    turn = turn.with_(session=remember_txn(turn.session, txn), slots=slots)
    turn.session.pop(ATTR_NO_MATCH, None)

    elig = eligibility(turn.services.store, txn, now, settings.dispute_window_days)
    if not elig.ok and not _redelivered_filing(turn, txn, elig, now):
        return _ineligible(turn, txn, elig)

    reason = validate_dispute_reason(turn.slot("DisputeReason"))
    if reason is None:
        msgs = [render("dispute_about", txn=_txn_phrase(txn))] if not turn.slot("DisputeReason") else [render("dispute_bad_reason")]
        return _ask(turn, "DisputeReason", msgs + [render("dispute_ask_reason")], slots, REASON_CARD)
    slots["DisputeReason"] = reason.value

    if reason in (DisputeReason.unauthorised, DisputeReason.duplicate):
        amount = txn.amount_minor  # the whole payment is in dispute
    else:
        amount = validate_disputed_amount(turn.slot("DisputedAmount"), txn)
        if amount is None:
            key = "dispute_bad_amount" if turn.slot("DisputedAmount") else "dispute_ask_amount"
            return _ask(turn, "DisputedAmount", [render(key, total=money(txn.amount_minor, txn.currency))], slots)
    slots["DisputedAmount"] = f"{amount / 100:.2f}"

    contacted: bool | None = None
    if reason != DisputeReason.unauthorised:
        text = answer_text(turn, "MerchantContacted")
        said = read_answer(text, MERCHANT_CONTACTED) if text else None
        if said is None:
            return _ask(turn, "MerchantContacted", [render("dispute_ask_contacted", merchant=txn.merchant_name)], slots, YES_NO_CARD)
        if said is Answer.UNCLEAR:
            return _unclear(turn, txn, "MerchantContacted", render("clarify_contacted", merchant=txn.merchant_name), slots, YES_NO_CARD)
        contacted = said is Answer.YES
        turn = turn.with_(session=forget_clarified(turn.session))
        slots["MerchantContacted"] = "yes" if contacted else "no"
        wait_until = merchant_first_until(reason, contacted, txn, now.date())
        if wait_until is not None:  # what a dispute desk says first: the merchant can fix it fastest
            return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), slots=slots, card=AGENT_CARD,
                            messages=[render("dispute_merchant_first", merchant=txn.merchant_name, paid=day(txn.occurred_at),
                                             until=day(wait_until))], facts={"merchant_first_until": wait_until.isoformat()})

    description = turn.slot("Description")
    if description is None:
        return _ask(turn, "Description", [render("dispute_ask_description")], slots)
    from nlp.redact import redact

    clean = redact(description[:MAX_DESCRIPTION]).text
    if clean.strip().lower() in {"skip", "no", "none", "nothing", "n/a"}:
        clean = ""

    confirmed = confirmation_answer(turn, CONFIRM_ACTION)
    if confirmed is Answer.NO:
        return ask_what_to_change(turn.with_(session=forget_clarified(turn.session)), slots)
    if confirmed is Answer.UNCLEAR:
        return _unclear(turn, txn, "", render("clarify_dispute", txn=_txn_phrase(txn)), slots, CONFIRM_CARD, confirm=True)
    if confirmed is None:
        summary = render("dispute_confirm", amount=money(amount, txn.currency), txn=_txn_phrase(txn), reason=REASON_PHRASES[reason.value],
                         full=amount == txn.amount_minor)
        return Decision(action="ConfirmIntent", slots=slots, session=dict(turn.session), messages=[summary], card=CONFIRM_CARD)
    turn = turn.with_(session=forget_clarified(turn.session))

    verdict = turn.services.governance.decide_dispute(turn, txn, reason, amount)
    if verdict.outcome == "deny":
        return Decision(action="Close", intent_state="Failed", session=dict(turn.session), slots=slots,
                        messages=[render("dispute_denied_policy")], facts={"decision_id": verdict.decision_id})
    if verdict.outcome != "allow" or not verdict.acted:
        return escalate(turn, "policy_file_dispute", render("dispute_escalated"),
                        {"txn_id": txn.txn_id, "reason": reason.value, "amount_minor": amount, "merchant_contacted": contacted,
                         "description": clean, "policy_reasons": verdict.reasons, "decision_id": verdict.decision_id})
    case, created = open_case(turn.services.store, txn, reason, amount, now, contacted, clean, channel="chat")
    # A retried or duplicated turn answers what the first one did: it read back the same decision,
    # and the case was opened under it moments ago, so it is the same filing, not an earlier one.
    created = created or _same_filing(case, verdict, reason, amount)
    tl = timeline(case.created_at.date(), txn)
    msg = render("dispute_filed" if created else "dispute_exists", case_id=case.case_id, amount=money(amount, txn.currency),
                 merchant=txn.merchant_name, credit_by=day(tl.provisional_credit_due), decide_by=day(tl.decision_due),
                 state=case.state.value.replace("_", " "))
    msgs = [msg]
    if created and reason == DisputeReason.unauthorised:
        msgs.append(render("dispute_card_advice"))
    return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), slots=slots, messages=msgs,
                    facts={"case_id": case.case_id, "created": created, "decision_id": verdict.decision_id})


RETRY_WINDOW = timedelta(minutes=2)  # Lex gives a code hook 30 s; its retries come well within this


def _redelivered_filing(turn: Turn, txn: Transaction, elig, now) -> bool:
    """This confirmed filing, delivered again after it opened the case (a Lex retry, one event in several
    containers): it replays the idempotent decision and open_case and answers as the first delivery did."""
    case, reason = elig.existing_case, validate_dispute_reason(turn.slot("DisputeReason"))
    if elig.reason != "already_disputed" or reason is None or case.reason != reason or abs(now - case.created_at) > RETRY_WINDOW:
        return False
    whole = reason in (DisputeReason.unauthorised, DisputeReason.duplicate)
    amount = txn.amount_minor if whole else validate_disputed_amount(turn.slot("DisputedAmount"), txn)
    return amount == case.disputed_amount_minor and confirmation_answer(turn, CONFIRM_ACTION) is Answer.YES


def _same_filing(case, verdict, reason: DisputeReason, amount: int) -> bool:
    if verdict.decided_at is None or case.reason != reason or case.disputed_amount_minor != amount:
        return False
    return abs(case.created_at - verdict.decided_at) <= RETRY_WINDOW


def _txn_phrase(txn: Transaction) -> str:
    return f"the {money(txn.amount_minor, txn.currency)} payment to {txn.merchant_name} on {day(txn.occurred_at)}"


def _ineligible(turn: Turn, txn: Transaction, elig) -> Decision:
    phrase = _txn_phrase(txn)
    if elig.reason == "already_disputed":
        case = elig.existing_case
        return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session),
                        messages=[render("dispute_already", case_id=case.case_id, txn=phrase, state=case.state.value.replace("_", " "))],
                        facts={"case_id": case.case_id, "ineligible": elig.reason})
    if elig.reason == "out_of_window":
        return Decision(action="Close", intent_state="Failed", session=dict(turn.session),
                        card=Card(title="Anything else?", buttons=(Button("Talk to an agent", "Talk to an agent"),)),
                        messages=[render("dispute_out_of_window", txn=phrase, days=get_settings().dispute_window_days)],
                        facts={"ineligible": elig.reason})
    key = {"pending": "dispute_pending", "declined": "dispute_declined", "reversed": "dispute_reversed",
           "credit": "dispute_credit"}[elig.reason]
    return Decision(action="Close", intent_state="Failed", session=dict(turn.session), messages=[render(key, txn=phrase)],
                    facts={"ineligible": elig.reason})
