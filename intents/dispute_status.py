"""DisputeStatus: the customer's cases, with status and next step."""
from __future__ import annotations

import re

from chalicelib.cases.customer_deadlines import next_customer_deadline
from chalicelib.cases.disputes import NEXT_STEP
from chalicelib.core.models import CaseState, DisputeCase
from intents.dialog import Button, Card, Decision, Redirect, Turn, now_of
from intents.replies import day, money, render
from intents.spec import IntentSpec, SlotSpec
from intents.identity_gate import require_identity
from intents.payment_picker import find_transactions_in_text

SPEC = IntentSpec(
    name="DisputeStatus",
    description="Report the status of the customer's dispute cases.",
    sample_utterances=[
        "what's the status of my dispute",
        "check my dispute",
        "any update on my dispute",
        "where is my chargeback",
        "how is my claim going",
        "status of case {CaseId}",
        "what happened with dispute {CaseId}",
        "track my dispute",
        "is my dispute resolved",
        "show my open disputes",
        "list my cases",
        "did I win my dispute",
        "when will my dispute be decided",
        "update on my complaint about a charge",
        "have you got an answer on my dispute",
        "check case {CaseId}",
        # everyday phrasing (issue 13 part B): street words, slang, UK and US wording
        'any news on my dispute',
        'any progress with my claim',
        "how's my claim coming along",
        "where's my claim",
        'where are you with my dispute',
        'have you sorted my dispute',
        "what's going on with my case",
        "what's happening with my chargeback",
        'is my case still open',
        'is the dispute closed yet',
        "I'm still waiting to hear back about my dispute",
        'when do I hear back about my claim',
        'any word on my refund claim',
        'what does under review mean',
        'what does provisional credit mean',
        'what does awaiting customer mean',
        "where is my dispute at",
        "has a decision been made on my claim",
        "has my claim been decided",
    ],
    slots=[SlotSpec(name="CaseId", slot_type="AMAZON.AlphaNumeric", prompt="What's the case reference? It starts with DSP.", required=False)],
)

_CASE_RE = re.compile(r"\bDSP[\s-]?([A-Z0-9]{4,10})\b", re.I)


def validate_case_id(value: str | None) -> str | None:
    if not value:
        return None
    m = _CASE_RE.search(value.upper())
    return f"DSP-{m.group(1).upper()}" if m else None


def _describe(case: DisputeCase, turn: Turn) -> str:
    txn = turn.services.store.transactions.get(case.customer_id, case.txn_id)
    merchant = txn.merchant_name if txn else "the merchant"
    clock = next_customer_deadline(turn.services.store, case, now_of(turn).date())  # the regulatory clock
    return render(
        "status_case",
        case_id=case.case_id,
        amount=money(case.disputed_amount_minor, case.currency),
        merchant=merchant,
        state=case.state.value.replace("_", " "),
        next_step=NEXT_STEP[case.state],
        opened=day(case.created_at),
        decide_by=day(case.decision_due) if case.decision_due and case.is_open else "",
        next_due=day(clock.due) if clock else "",
        next_what=clock.phrase if clock else "",
    )


_MEANING = re.compile(r"\bmean(?:s|ing|t)?\b|\bwhat(?:'s| is) (?:that|this)\b|\bexplain\b", re.I)
_STATE_WORDS = [  # how customers name each state, most specific first
    (CaseState.provisional_credit, r"provisional|temporary credit"), (CaseState.awaiting_customer, r"awaiting"),
    (CaseState.under_review, r"under review|in review|reviewing"), (CaseState.resolved_won, r"resolved won|\bwon\b"),
    (CaseState.resolved_lost, r"resolved lost|\blost\b"), (CaseState.withdrawn, r"withdrawn"),
    (CaseState.opened, r"\bopen(?:ed)?\b"),
]


def asks_meaning(text: str) -> bool:
    """ "What does under review mean?": a question about a status word, not for a status."""
    return bool(_MEANING.search(text or ""))


def _meanings(turn: Turn) -> Decision:
    """What the named status means, or else what the customer's own cases' statuses mean."""
    low = (turn.transcript or "").lower()
    named = next((state for state, rx in _STATE_WORDS if re.search(rx, low)), None)
    if named is not None:
        states = [named]
    else:  # "what does that mean?": their cases' statuses, open ones first
        cases = turn.services.store.cases.list_for_customer(turn.identity.customer_id) if turn.identity.verified else []
        cases.sort(key=lambda c: (not c.is_open, -c.created_at.timestamp()))
        states = list(dict.fromkeys(c.state for c in cases))[:3]
    messages = [render("status_meaning", state=s.value) for s in states] or [render("status_meaning_none")]
    if named is None and states:  # "what does that mean?" could follow anything: say what is explained
        messages.insert(0, render("status_meaning_yours", n=len(states)))
    return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), messages=messages,
                    facts={"status_meaning": [s.value for s in states]})


_ABOUT_A_CASE = re.compile(r"\b(disputes?|claims?|case|cases|chargebacks?|complaints?|refunds?|status|update|resolved|open|dsp-)",
                           re.I)


def handle(turn: Turn) -> Decision:
    if asks_meaning(turn.transcript) and not validate_case_id(turn.transcript):
        low = (turn.transcript or "").lower()
        if turn.identity.verified or any(re.search(rx, low) for _, rx in _STATE_WORDS):
            return _meanings(turn)  # a status word explained needs no account data
    gate = require_identity(turn)
    if gate:
        return gate
    if turn.slot_to_elicit is None and not _ABOUT_A_CASE.search(turn.transcript or "") \
            and find_transactions_in_text(turn, turn.transcript or "", named_only=True):
        # "check my amazon order" names a payment, not a case: the payment the customer named wins.
        return Decision.redirect_to(Redirect(intent="LookupTransaction", session=dict(turn.session)))
    store, cid = turn.services.store, turn.identity.customer_id
    asked = validate_case_id(turn.slot("CaseId")) or validate_case_id(turn.transcript)
    if turn.slot("CaseId") and not asked:
        return Decision(action="ElicitSlot", slot_to_elicit="CaseId", slots={**turn.slots, "CaseId": None},
                        session=dict(turn.session), messages=[render("status_bad_ref")])
    if asked:
        case = store.cases.get(cid, asked)  # scoped to this customer: another's id is simply not found
        if case is None:
            return Decision(action="Close", intent_state="Failed", session=dict(turn.session),
                            messages=[render("status_not_found", case_id=asked)], facts={"case_id": asked, "found": False})
        return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), messages=[_describe(case, turn)],
                        facts={"case_id": case.case_id})
    cases = store.cases.list_for_customer(cid)
    if not cases:
        return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), messages=[render("status_none")])
    cases.sort(key=lambda c: (not c.is_open, -c.created_at.timestamp()))
    shown = cases[:5]
    msgs = [render("status_count", open=sum(c.is_open for c in cases), total=len(cases))]
    msgs += [_describe(c, turn) for c in shown]
    card = None
    if len(shown) > 1:
        card = Card(title="Case details", buttons=tuple(Button(c.case_id, f"status of case {c.case_id}") for c in shown))
    return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), messages=msgs, card=card,
                    facts={"case_ids": [c.case_id for c in shown]})
