"""ExplainHold: why a payment was declined or held, what releases it, and releasing it.

Explanations come from customer-safe templates per reason code (intents/templates/holds/): they
never mention rules, thresholds or risk scores. Release is a governed decision: only after a
fresh step-up verification in this chat, and only when the decision policy allows it.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.payments.fraud_codes import REASON_CODES
from chalicelib.core.models import FraudAction, FraudDecision, Transaction, TxnStatus
from intents.dialog import ATTR_PENDING_INTENT, Button, Card, Decision, Turn, set_json_attr
from intents.replies import money, render, render_hold
from intents.spec import IntentSpec, SlotSpec, SlotTypeSpec, SlotTypeValue
from intents import fraud_incidents, hold_fraud, hold_questions
from intents.answers import WAS_IT_YOU, Answer, answer_text, clarified_before, forget_clarified, mark_clarified, read_answer
from intents.family_use import family_member, permission_in, read_permission
from intents.hold_questions import HOLD_SLOTS
from intents.dialog import now_of
from intents.handoff import escalate
from intents.identity_gate import require_identity
from intents.payment_picker import (chosen_by_id, choice_decision, find_transactions, find_transactions_in_text, last_txn, remember_txn,
                                   resolve_choice)
from intents.slots import criteria_from_turn
from intents.small_talk import classify as small_talk_kind, reply as small_talk_reply

HOLD_LOOKBACK_DAYS = 30

YES_NO = SlotTypeSpec(
    name="YesNo",
    description="A yes or no answer.",
    values=[
        SlotTypeValue(value="yes", synonyms=["yeah", "yep", "sure", "ok", "okay", "please do", "go ahead", "y", "correct", "I did"]),
        SlotTypeValue(value="no", synonyms=["nope", "no thanks", "don't", "do not", "n", "not yet", "I didn't", "I haven't"]),
    ],
)

SPEC = IntentSpec(
    name="ExplainHold",
    description="Explain a declined or held card payment and, where allowed, release it.",
    sample_utterances=[
        "why was my card declined",
        "why was my payment declined",
        "my card got declined",
        "why is my payment on hold",
        "why was my payment held",
        "my payment is blocked",
        "why did my card not work",
        "my card was refused at {Merchant}",
        "why was my {Merchant} payment declined",
        "why was the {Amount} payment held",
        "my transaction was blocked for fraud",
        "you blocked my payment",
        "can you release the hold on my payment",
        "unblock my payment",
        "my purchase didn't go through",
        "why is there a hold on my card",
        "the payment was declined but I have money",
        "card declined online",
        "release my payment",
        "why was my transaction stopped",
        # everyday phrasing (issue 13 part B): street words, slang, UK and US wording
        'my card keeps being declined',
        'my card was rejected',
        'my payment was rejected',
        'my payment failed',
        'the transaction failed at {Merchant}',
        "my card isn't working",
        "my card won't work",
        "why can't I use my card",
        'my card was knocked back',
        "the shop wouldn't accept my card",
        "the payment wouldn't go through",
        'why is my payment stuck',
        'why is my payment pending review',
        'my payment at {Merchant} failed',
        'my card got declined at {Merchant}',
        'declined at {Merchant}',
        "my purchase is on hold",
        "my {Merchant} payment is held",
    ],
    slot_types=[YES_NO],
    slots=[
        SlotSpec(name="Merchant", slot_type="MerchantName", prompt="Which payment was it? Tell me the merchant or amount.", required=False),
        SlotSpec(name="Amount", slot_type="AMAZON.Number", prompt="How much was it?", required=False),
        SlotSpec(name="HoldChoice", slot_type="AMAZON.AlphaNumeric", prompt="Which one is it? Say its number.", required=False),
        SlotSpec(name="ReleaseHold", slot_type="YesNo", prompt="Would you like to confirm it's you so the payment can go through?", required=False),
        SlotSpec(name="BlockCard", slot_type="YesNo", prompt="Would you also like your card blocked?", required=False),
        SlotSpec(name="FamilyPermission", slot_type="YesNo", prompt="Did they have your permission to use your card?",
                 required=False),
    ],
)

YES_NO_CARD = Card(title="Was this payment yours?", buttons=(Button("Yes, it was me", "yes, it was me"),
                                                               Button("No, it wasn't me", "no, it wasn't me"),
                                                               Button("Not now", "not now")))


def active_holds(turn: Turn) -> list[tuple[Transaction, FraudDecision]]:
    store, cid = turn.services.store, turn.identity.customer_id
    since = now_of(turn) - timedelta(days=HOLD_LOOKBACK_DAYS)
    out = []
    for fd in store.fraud.list_for_customer(cid):
        if fd.released or fd.created_at < since:
            continue
        txn = store.transactions.get(cid, fd.txn_id)
        if txn:
            out.append((txn, fd))
    out.sort(key=lambda tf: tf[0].occurred_at, reverse=True)
    return out


def handle(turn: Turn) -> Decision:
    gate = require_identity(turn)
    if gate:
        return gate
    store, cid = turn.services.store, turn.identity.customer_id

    target: Transaction | None = chosen_by_id(turn, "HoldChoice")  # handed over by a correction
    if target is None and turn.slot_to_elicit == "HoldChoice":
        target = resolve_choice(turn, turn.slot("HoldChoice") or turn.transcript)
        if target is None:
            holds = active_holds(turn)
            return choice_decision(turn, "HoldChoice", [t for t, _ in holds], render("choose_again"))
    if turn.slot("HoldChoice"):
        turn = turn.with_(slots={**turn.slots, "HoldChoice": None})  # answered: don't re-read it next turn
    if target is None:
        # The payment the customer names wins over one that merely needs attention (the remembered
        # or the latest hold): "declined at the gas station" is the fuel payment, named in words.
        crit = criteria_from_turn(turn)
        found = find_transactions(turn, crit) if not crit.empty else (
            find_transactions_in_text(turn, turn.transcript) if turn.slot_to_elicit is None else [])
        if found:
            held_ids = {fd.txn_id for fd in store.fraud.list_for_customer(cid)}
            matches = [t for t in found if t.txn_id in held_ids]
            if len(matches) == 1:
                target = matches[0]
            elif len(matches) > 1:
                return choice_decision(turn, "HoldChoice", matches, render("hold_several"))
            else:
                others = found
                if len(others) == 1 and others[0].status in (TxnStatus.posted, TxnStatus.pending):
                    return Decision(action="Close", intent_state="Fulfilled", session=remember_txn(turn.session, others[0]),
                                    messages=[render("hold_not_held", merchant=others[0].merchant_name)])
    if target is None:
        remembered = last_txn(turn)
        if remembered and store.fraud.get_for_transaction(cid, remembered.txn_id):
            target = remembered
    if target is None:
        holds = active_holds(turn)
        if not holds:
            return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), messages=[render("hold_none")])
        if len(holds) > 1:
            return choice_decision(turn, "HoldChoice", [t for t, _ in holds], render("hold_several"))
        target = holds[0][0]

    fd = store.fraud.get_for_transaction(cid, target.txn_id)
    session = remember_txn(turn.session, target)
    if fd is None:
        return Decision(action="Close", intent_state="Fulfilled", session=session,
                        messages=[render("hold_not_held", merchant=target.merchant_name)])
    turn = turn.with_(session=session)
    return _explain_or_release(turn, target, fd)


def _explain_or_release(turn: Turn, txn: Transaction, fd: FraudDecision) -> Decision:
    codes = [REASON_CODES[c] for c in fd.reason_codes if c in REASON_CODES]
    releasable = bool(codes) and all(c.step_up_releasable for c in codes) and not fd.released
    ctx = {"amount": money(txn.amount_minor, txn.currency), "merchant": txn.merchant_name, "releasable": releasable}
    explanation = [render_hold(code, **ctx) for code in (fd.reason_codes or ["_generic"])]

    if turn.slot_to_elicit in HOLD_SLOTS and hold_questions.aside_kind(turn.transcript):
        return hold_questions.aside(turn, txn, turn.slot_to_elicit, hold_questions.aside_kind(turn.transcript))
    if turn.slot_to_elicit == "BlockCard" or turn.slot("BlockCard"):
        return hold_fraud.block_card_answer(turn, txn, fd)  # released or not: the card block was offered
    if fd.released:
        if hold_questions.changed_mind(turn) and read_answer(answer_text(turn, "ReleaseHold"), WAS_IT_YOU) is Answer.NOT_ME:
            fraud_incidents.confirmed(turn, txn, fd)  # "wait, that wasn't me" just after the release
            return hold_fraud.report_not_me(turn.with_(session=hold_questions.asked_offer(turn.session)), txn, fd)
        return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session),
                        messages=[render("hold_already_released", merchant=txn.merchant_name)])
    answered = _answer(turn, txn, fd, ctx, explanation)
    if isinstance(answered, Decision):
        return answered
    turn, answer, more = answered
    changed_mind = hold_questions.changed_mind(turn)
    turn = turn.with_(session=hold_questions.asked_offer(turn.session))  # the question is answered
    if answer is Answer.NOT_ME:
        turn, first = fraud_incidents.customer_answered(turn, txn, fd, "not_me")
        if first or changed_mind:  # a "yes" taken back was timed, but no fraud was counted for it
            fraud_incidents.confirmed(turn, txn, fd)
        return hold_fraud.report_not_me(turn, txn, fd, **more)  # never a release, whatever else was said
    if answer is not None:
        turn = turn.with_(session=forget_clarified(turn.session))
    if answer is Answer.NO:
        return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), messages=[render("hold_kept")])
    if answer is Answer.YES and releasable:
        turn, _ = fraud_incidents.customer_answered(turn, txn, fd, "yes")
        return _release(turn, txn, fd)

    if releasable:
        return _ask_release(turn, explanation + [render("hold_offer_release")])
    fraud_kind = any(c.kind == "fraud" for c in codes) or not codes
    if fraud_kind:
        return escalate(turn, "fraud_review", " ".join(explanation + [render("hold_escalated")]),
                        {"txn_id": txn.txn_id, "fraud_decision_id": fd.decision_id, "reason_codes": fd.reason_codes})
    return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), messages=explanation + [render("anything_else")])


def _answer(turn: Turn, txn: Transaction, fd: FraudDecision, ctx: dict,
            explanation: list[str]) -> Decision | tuple[Turn, Answer | None, dict]:
    """What the customer's words say at the hold's yes/no questions: (turn, answer, fraud-team
    context) or the step that asks again, closes, or hands over."""
    who = hold_questions.family_asked(turn)
    if turn.slot_to_elicit == "FamilyPermission" and who:
        permission = read_permission(answer_text(turn, "FamilyPermission"))
        if permission is Answer.UNCLEAR:
            if clarified_before(turn, "FamilyPermission"):
                return hold_fraud.unclear_twice(turn, txn, fd, question="family_permission", used_by=who)
            return hold_questions.ask_permission(turn.with_(session=mark_clarified(turn.session, turn, "FamilyPermission")),
                                                 txn, who, [render("clarify_family_permission")])
        turn = turn.with_(session=hold_questions.asked_offer(turn.session))
        if permission is Answer.YES:
            return turn, Answer.YES, {}
        return turn, Answer.NOT_ME, {"used_by": who, "permission": False}
    text = answer_text(turn, "ReleaseHold")
    if text and small_talk_kind(text) == "goodbye":  # "ok thanks, that's all" closes; it never releases
        return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session),
                        messages=[render("hold_kept"), small_talk_reply(turn, "goodbye").messages[-1]])
    who = family_member(text) if text else None
    if who:
        permission = permission_in(text)
        if permission is None:
            return hold_questions.ask_permission(turn, txn, who)
        if permission is Answer.NO:
            return turn, Answer.NOT_ME, {"used_by": who, "permission": False}
        return turn, Answer.YES, {}
    if hold_questions.asks_why(text):  # the reason, in customer-safe words, then the same question
        return _ask_release(turn.with_(session=hold_questions.asked_was_it_you(turn.session)),
                            explanation + [render("hold_reask", amount=ctx["amount"], merchant=txn.merchant_name)], offer=False)
    answer = read_answer(text, hold_questions.question_kind(turn)) if text else None
    if answer is Answer.UNCLEAR:
        if clarified_before(turn, "ReleaseHold"):
            return hold_fraud.unclear_twice(turn, txn, fd)
        session = hold_questions.asked_was_it_you(mark_clarified(turn.session, turn, "ReleaseHold"))
        return _ask_release(turn.with_(session=session), [render("clarify_was_it_you", amount=ctx["amount"], merchant=txn.merchant_name)],
                            offer=False)
    return turn, answer, {}


def _ask_release(turn: Turn, messages: list[str], offer: bool = True) -> Decision:
    slots = dict(turn.slots)
    slots["ReleaseHold"] = None
    session = hold_questions.asked_offer(turn.session) if offer else dict(turn.session)
    return Decision(action="ElicitSlot", slot_to_elicit="ReleaseHold", slots=slots, messages=messages,
                    session=session, card=YES_NO_CARD)


def _stepped_up(turn: Turn) -> bool:
    """Releasing a hold needs this customer proven *recently* in this chat: the one freshness check
    step-up offers, so a verification from hours ago does not count here either."""
    return turn.services.step_up.fresh_verification(turn.session_id, turn.identity.customer_id, now_of(turn))


def _release(turn: Turn, txn: Transaction, fd: FraudDecision) -> Decision:
    if not _stepped_up(turn):
        # A login token proves the session, not the person holding the phone right now.
        session = dict(turn.session)
        set_json_attr(session, ATTR_PENDING_INTENT, {"name": "ExplainHold", "slots": {"ReleaseHold": "yes"}})
        return Decision(action="ElicitSlot", intent_name="VerifyIdentity", slot_to_elicit="CardLast4",
                        slots={"CardLast4": None, "DateOfBirth": None, "OneTimeCode": None}, session=session,
                        messages=[render("release_needs_step_up"), render("verify_ask_last4")])
    gov = turn.services.governance
    verdict = gov.decide_release(turn, txn, fd)
    if verdict.acted and verdict.outcome == "allow":
        fd.released = True
        turn.services.store.fraud.put(fd)
        fraud_incidents.released(turn, txn, fd, verdict.decision_id)
        return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session),
                        messages=[render("hold_released", merchant=txn.merchant_name,
                                         declined=fd.action == FraudAction.decline)],
                        facts={"released": True, "decision_id": verdict.decision_id})
    if verdict.outcome == "deny":
        return Decision(action="Close", intent_state="Failed", session=dict(turn.session),
                        messages=[render("hold_release_denied")], facts={"decision_id": verdict.decision_id})
    return escalate(turn, "policy_release_hold", render("hold_release_escalated"),
                    {"txn_id": txn.txn_id, "fraud_decision_id": fd.decision_id, "policy_reasons": verdict.reasons,
                     "decision_id": verdict.decision_id})
