"""VerifyIdentity: step-up verification in chat (card last 4 + date of birth + one-time code).

Entered only by redirection from an intent that needs account data; on success it resumes that
intent with the slots the customer had already given.
"""
from __future__ import annotations

import re
from datetime import date

from chalicelib.identity import PROOF_ATTRIBUTE
from intents.dialog import ATTR_PENDING_INTENT, Button, Card, Decision, Identity, Redirect, Turn, json_attr
from intents.replies import render
from intents.spec import IntentSpec, SlotSpec
from intents.dialog import now_of
from intents.handoff import escalate
from intents.identity_gate import NEEDS_IDENTITY
from intents.slots import parse_date_text
from intents.dob import ask_which_date, certain_date

SPEC = IntentSpec(
    name="VerifyIdentity",
    description="Step-up identity verification before showing account data.",
    sample_utterances=[
        "verify me",
        "I want to verify my identity",
        "verify my identity",
        "confirm it's me",
        "I need to confirm my identity",
        "check my identity",
        "send me a code",
        "send me a verification code",
        "I want to log in",
        "authenticate me",
        "can you verify who I am",
        "I'd like to prove it's me",
        "security check",
        "I have my card here to verify",
        "let me verify",
    ],
    slots=[
        SlotSpec(name="CardLast4", slot_type="AMAZON.AlphaNumeric", prompt="What are the last four digits of your card?",
                 sample_utterances=["{CardLast4}", "it ends in {CardLast4}", "the last four are {CardLast4}"]),
        SlotSpec(name="DateOfBirth", slot_type="AMAZON.Date", prompt="And your date of birth?",
                 sample_utterances=["{DateOfBirth}", "I was born on {DateOfBirth}", "my birthday is {DateOfBirth}"]),
        SlotSpec(name="OneTimeCode", slot_type="AMAZON.AlphaNumeric", prompt="Please enter the 6-digit code we just sent you.",
                 sample_utterances=["{OneTimeCode}", "the code is {OneTimeCode}"]),
    ],
)


def validate_card_last4(value: str | None) -> str | None:
    digits = re.sub(r"\D", "", value or "")
    return digits if len(digits) == 4 else None


def validate_date_of_birth(value: str | None, today: date) -> date | None:
    parsed = parse_date_text(value, today)
    if parsed is None or parsed >= today or parsed.year < 1900:
        return None
    return parsed


def validate_one_time_code(value: str | None) -> str | None:
    digits = re.sub(r"\D", "", value or "")
    return digits if len(digits) == 6 else None


ATTR_UNUSABLE = "verifyUnusable"  # answers in a row that were not a card's last 4, a date or a code
MAX_UNUSABLE = 3  # then a person helps: a customer who cannot or will not answer is never looped


def _ask(turn: Turn, slot: str, *messages: str, slots: dict | None = None) -> Decision:
    new_slots = dict(turn.slots if slots is None else slots)
    new_slots[slot] = None
    session = dict(turn.session)
    session.pop(ATTR_UNUSABLE, None)  # a usable answer (or a fresh question) starts the count again
    return Decision(action="ElicitSlot", slot_to_elicit=slot, slots=new_slots, messages=list(messages), session=session)


def _unusable(turn: Turn, slot: str, message: str, slots: dict | None = None) -> Decision:
    """An answer we cannot use (words where digits were asked, a malformed date or code). None of
    these counts as a verification attempt; but after the second in a row the customer is told what
    is needed and offered a person, and after the third a person takes over instead of a loop."""
    try:
        misses = int(turn.session.get(ATTR_UNUSABLE) or 0) + 1
    except ValueError:
        misses = 1
    if misses >= MAX_UNUSABLE:
        session = dict(turn.session)
        session.pop(ATTR_UNUSABLE, None)
        return escalate(turn.with_(session=session), "verification_unclear", render("verify_unusable_person"))
    decision = _ask(turn, slot, message, slots=slots)
    decision.session[ATTR_UNUSABLE] = str(misses)
    if misses == MAX_UNUSABLE - 1:
        decision.messages.append(render("verify_unusable_help", slot=slot))
        decision.card = Card(title="Other options", buttons=(Button("Talk to an agent", "Talk to an agent"),))
    return decision


def handle(turn: Turn) -> Decision:
    step_up = turn.services.step_up
    today = now_of(turn).date()
    if turn.identity.locked:
        return escalate(turn, "lockout", render("verify_locked"))

    last4_raw, dob_raw, code_raw = turn.slot("CardLast4"), turn.slot("DateOfBirth"), turn.slot("OneTimeCode")
    challenge = step_up.status(turn.session_id)
    has_challenge = bool(challenge and challenge.otp_hash and not challenge.verified_customer_id)

    if not has_challenge or not code_raw:
        if not has_challenge:
            last4 = validate_card_last4(last4_raw)
            if last4 is None:
                if last4_raw:
                    return _unusable(turn, "CardLast4", render("verify_bad_last4"))
                return _ask(turn, "CardLast4", render("verify_ask_last4"))
            question = ask_which_date(turn, last4, today)  # 03/04/1988: asked, no attempt counted
            if question is not None:
                return question
            dob = validate_date_of_birth(certain_date(turn, today) or dob_raw, today)
            if dob is None:
                if dob_raw:
                    return _unusable(turn, "DateOfBirth", render("verify_bad_dob"), slots={**turn.slots, "CardLast4": last4})
                return _ask(turn, "DateOfBirth", render("verify_ask_dob"), slots={**turn.slots, "CardLast4": last4})
            result = step_up.begin(turn.session_id, last4, dob)
            if result.status == "code_sent":
                return _ask(turn, "OneTimeCode", render("verify_code_sent", destination=result.destination or "your phone"),
                            slots={**turn.slots, "CardLast4": last4, "DateOfBirth": dob.isoformat()})
            if result.status == "locked":
                return escalate(turn.with_(identity=Identity(customer_id=None, method=None, locked=True)), "lockout", render("verify_locked"))
            if result.status == "send_limited":
                return escalate(turn, "otp_send_limit", render("verify_code_limit"))
            if result.status == "delivery_failed":
                return escalate(turn, "otp_undeliverable", render("verify_code_undeliverable"))
            # mismatch: never say which part was wrong, or whether the card exists
            return _ask(turn, "CardLast4", render("verify_mismatch"), render("verify_ask_last4"),
                        slots={"CardLast4": None, "DateOfBirth": None, "OneTimeCode": None})
        return _ask(turn, "OneTimeCode", render("verify_ask_code"))

    code = validate_one_time_code(code_raw)
    if code is None:
        return _unusable(turn, "OneTimeCode", render("verify_bad_code_format"))
    # Bound to the customer the channel identifies (a token), or else to this anonymous session.
    subject = turn.identity.customer_id if turn.identity.method == "token" else None
    result = step_up.confirm(turn.session_id, code, subject=subject)
    if result.status == "verified":
        return _resume(turn, result.customer_id, result.proof)
    if result.status == "locked":
        return escalate(turn.with_(identity=Identity(customer_id=None, method=None, locked=True)), "lockout", render("verify_locked"))
    if result.status == "expired":
        return _ask(turn, "CardLast4", render("verify_expired"), render("verify_ask_last4"),
                    slots={"CardLast4": None, "DateOfBirth": None, "OneTimeCode": None})
    if result.status == "no_challenge":
        return _ask(turn, "CardLast4", render("verify_ask_last4"), slots={"CardLast4": None, "DateOfBirth": None, "OneTimeCode": None})
    return _ask(turn, "OneTimeCode", render("verify_wrong_code"))


def _resume(turn: Turn, customer_id: str, proof: str | None) -> Decision:
    """Hand the verified customer straight back to what they asked for: the hook runs the parked
    intent in this same turn, with the slots the customer had already given."""
    pending = json_attr(turn.session, ATTR_PENDING_INTENT, None)
    session = dict(turn.session)
    session.pop(ATTR_PENDING_INTENT, None)
    if proof:
        session[PROOF_ATTRIBUTE] = proof
    thanks = render("verify_success")
    if not isinstance(pending, dict) or pending.get("name") not in _resumable():
        return Decision(action="ElicitIntent", messages=[thanks, render("verify_what_next")], session=session,
                        intent_state="Fulfilled", facts={"verified": True})
    slots = pending.get("slots") if isinstance(pending.get("slots"), dict) else {}
    return Decision.redirect_to(Redirect(
        intent=pending["name"], slots={k: v for k, v in slots.items() if isinstance(k, str)}, session=session,
        identity=Identity(customer_id=customer_id, method="step_up"), invocation_source="DialogCodeHook",
        messages=[thanks], facts={"verified": True}))


def _resumable() -> set[str]:
    return NEEDS_IDENTITY | {"LostCard", "WithdrawDispute"}  # issue 13: they act on the account too
