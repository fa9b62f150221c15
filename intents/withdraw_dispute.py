"""WithdrawDispute: the customer closes their own dispute (the merchant refunded, or it was them after all).

Why a confirmation first and a decision record after: withdrawing is final for the chat and can take
back a temporary credit, so the customer hears both before saying yes, and the move is checked by
the case lifecycle (a customer may withdraw only an open case), stored atomically by the store, and
logged in the decision log under the current policy version so an auditor can replay it.
"""
from __future__ import annotations

import re

from chalicelib.cases.lifecycle import Actor, ActorKind, check_transition
from chalicelib.core.models import CaseState, DisputeCase
from intents.dialog import Button, Card, Decision, Turn
from intents.replies import money
from intents.spec import IntentSpec, SlotSpec
from intents.talk_text import say
from intents.identity_gate import require_identity

SPEC = IntentSpec(
    name="WithdrawDispute",
    description="Withdraw (cancel) one of the customer's open disputes.",
    sample_utterances=[
        "I want to withdraw my dispute", "withdraw my dispute", "I no longer want to dispute the payment",
        "the merchant refunded me, I want to cancel the dispute", "I got my money back, you can close the dispute case",
        "please drop the dispute", "I don't need the dispute any more", "withdraw my claim please",
        "withdraw dispute {CaseRef}", "withdraw case {CaseRef}", "it was me after all, withdraw the dispute",
        "never mind the dispute, it's sorted", "I'd like to withdraw my claim",
        "I want to stop the chargeback", "the merchant sorted it out, withdraw my dispute",
        # Why no bare "cancel" or "close" samples: a lone "cancel" answering another question
        # (FileDispute's confirmation) must not open this intent.
    ],
    slots=[SlotSpec(name="CaseRef", slot_type="AMAZON.AlphaNumeric", required=False,
                    prompt="Which dispute would you like to withdraw? It starts with DSP-.",
                    sample_utterances=["{CaseRef}", "the {CaseRef} one", "case {CaseRef}"])],
    fulfillment_code_hook=True,
)

_REF = re.compile(r"\bDSP-[A-Z0-9]{4,12}\b", re.I)


def _ref_in(turn: Turn) -> str | None:
    for text in (turn.slot("CaseRef"), turn.transcript):
        m = _REF.search(text or "")
        if m:
            return m.group(0).upper()
    return None


def _merchant(turn: Turn, case: DisputeCase) -> str:
    txn = turn.services.store.transactions.get(case.customer_id, case.txn_id)
    return txn.merchant_name if txn else "the merchant"


def _credit_line(case: DisputeCase) -> str:
    amount = money(case.disputed_amount_minor, case.currency)
    return say("withdraw_credit_given", amount=amount) if case.state is CaseState.provisional_credit \
        else say("withdraw_credit_none")


def _ask_which(turn: Turn, cases: list[DisputeCase], key: str, **ctx) -> Decision:
    buttons = tuple(Button(f"{c.case_id} · {money(c.disputed_amount_minor, c.currency)} {_merchant(turn, c)}"[:50], c.case_id)
                    for c in cases[:5])
    return Decision(action="ElicitSlot", slot_to_elicit="CaseRef", slots={"CaseRef": None}, session=dict(turn.session),
                    messages=[say(key, **ctx)], card=Card(title="Your open disputes", buttons=buttons))


def _record(turn: Turn, case: DisputeCase) -> str | None:
    """The withdrawal in the decision log, under the policy version in force (no PII: ids only)."""
    gov = turn.services.governance
    if gov is None:
        return None
    from chalicelib.core.ids import derive_decision_id

    decision = gov.log.record(action="withdraw_dispute", outcome="allow", channel="chat", actor="customer",
                              customer_id=case.customer_id, reasons=["customer_withdrew"],
                              policy=gov.current_policy(),
                              subject={"case_id": case.case_id, "txn_id": case.txn_id}, tier="rules",
                              decision_id=derive_decision_id("withdraw_dispute", case.customer_id, case.case_id),
                              explanation=f"Dispute {case.case_id} was withdrawn at the customer's request in chat.")
    return decision.decision_id


def withdraw(turn: Turn, case: DisputeCase) -> tuple[DisputeCase, str | None]:
    """Check the move under the lifecycle rules, store it atomically, then log the decision."""
    actor = Actor(id=case.customer_id, kind=ActorKind.customer)
    check_transition(case, CaseState.withdrawn, actor, "withdrawn by the customer in chat")
    updated = turn.services.store.cases.transition(case.customer_id, case.case_id, CaseState.withdrawn,
                                                   "withdrawn by the customer in chat",
                                                   actor=actor.id, actor_kind=actor.kind.value)
    return updated, _record(turn, case)


def handle(turn: Turn) -> Decision:
    gate = require_identity(turn)
    if gate is not None:
        return gate
    cid = turn.identity.customer_id
    open_cases = [c for c in turn.services.store.cases.list_for_customer(cid) if c.is_open]
    if not open_cases:
        return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), messages=[say("withdraw_none")])
    ref = _ref_in(turn)
    chosen = next((c for c in open_cases if c.case_id == ref), None) if ref else (
        open_cases[0] if len(open_cases) == 1 else None)
    if chosen is None:
        key, ctx = ("withdraw_not_found", {"ref": ref}) if ref else ("withdraw_which", {"n": len(open_cases)})
        return _ask_which(turn, open_cases, key, **ctx)
    slots = {"CaseRef": chosen.case_id}
    if turn.confirmation_state == "Denied":
        return Decision(action="Close", intent_state="Failed", session=dict(turn.session), slots=slots,
                        messages=[say("withdraw_kept", ref=chosen.case_id)])
    if turn.confirmation_state != "Confirmed":
        amount = money(chosen.disputed_amount_minor, chosen.currency)
        return Decision(action="ConfirmIntent", slots=slots, session=dict(turn.session),
                        messages=[say("withdraw_confirm", ref=chosen.case_id, amount=amount, merchant=_merchant(turn, chosen)),
                                  _credit_line(chosen)],
                        card=Card(title="Withdraw it?", buttons=(Button("Yes, withdraw it", "yes"), Button("No, keep it", "no"))))
    _updated, decision_id = withdraw(turn, chosen)
    return Decision(action="Close", intent_state="Fulfilled", session=dict(turn.session), slots=slots,
                    messages=[say("withdraw_done", ref=chosen.case_id), _credit_line(chosen)],
                    facts={"case_id": chosen.case_id, "withdrawn": True, "decision_id": decision_id})
