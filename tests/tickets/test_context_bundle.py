"""The context bundle validates against its versioned schema and carries no card number, date of
birth or CVV."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone

import jsonschema
import pytest

from chalicelib.cases.deadlines import deadlines_for_case
from chalicelib.cases.evidence import case_evidence_status
from chalicelib.cases.lifecycle import Actor, transition
from chalicelib.core.models import Card, CardType, Customer, DisputeCase, DisputeReason, Transaction, TxnStatus
from chalicelib.core.pci import find_pans
from chalicelib.tickets.context_bundle import (
    MAX_TRANSCRIPT_CHARS,
    MAX_TRANSCRIPT_TURNS,
    SCHEMA_VERSION,
    build_context_bundle,
    bundle_schema,
    validate_bundle,
)
from chalicelib.tickets.service import new_ticket

T0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
DOB = date(1985, 7, 14)
DOB_FORMS = ("1985-07-14", "07/14/1985", "14/07/1985", "July 14, 1985", "14 July 1985")
CVV_RE = re.compile(r"(?i)\b(?:cvv2?|cvc2?|security\s+code)\b\W{0,3}\d{3,4}\b")


def _bundle(messages, redact=None):
    customer = Customer(customer_id="demo-alice", name="Alice Moreno", email="alice@example.com", phone="+1-555-0100",
                        date_of_birth=DOB, created_at=T0)
    card = Card(card_id="k1", customer_id="demo-alice", last4="4242", card_type=CardType.debit)
    txn = Transaction(txn_id="t1", customer_id="demo-alice", card_id="k1", card_last4="4242", descriptor="ACME*SHOP",
                      merchant_name="Acme", mcc="5999", amount_minor=4200, status=TxnStatus.posted, occurred_at=T0,
                      channel="ecommerce")
    case = DisputeCase(case_id="DSP-ABCDEF", customer_id="demo-alice", txn_id="t1", reason=DisputeReason.not_received,
                       disputed_amount_minor=4200, created_at=T0, network_reason_code="13.1",
                       evidence={"expected_delivery_date": "2026-02-20"})
    case = transition(case, "awaiting_customer", Actor("assistant", "assistant"), "need merchant contact", now=T0)
    ticket = new_ticket(created_by="talk_to_agent", source_ref="sess-1#4", reason="customer_request",
                        queue="disputes", priority="P3", customer_ref="demo-alice", case_id=case.case_id, now=T0)
    decisions = [{"decision_id": "dec-1", "at": T0, "actor": "assistant", "action": "file_dispute",
                  "outcome": "escalate", "explanation": "amount over the assistant's limit", "reasons": ["over_limit"],
                  "policy_version": "2026-11-01"}]
    return build_context_bundle(
        ticket, customer=customer, cards=[card], identity_level="step_up_verified", transactions=[txn], case=case,
        deadlines=deadlines_for_case(case, txn, card), evidence=case_evidence_status(case, {"goods": True}),
        triage={"category": "not_received", "urgency": "normal"}, conversation_kind="chat", messages=messages,
        decisions=decisions, next_action=("ask_merchant_contact", "Ask when the customer contacted Acme."),
        redact=redact,
    )


def _leaks(bundle) -> list[str]:
    text = json.dumps(bundle, default=str)
    found = [f"pan:{s.last4}" for s in find_pans(text)]
    found += [f"dob:{f}" for f in DOB_FORMS if f in text]
    found += [f"cvv:{m.group()}" for m in CVV_RE.finditer(text)]
    return found


def test_bundle_validates_and_carries_the_whole_story():
    """Given a verified customer escalating a not-received dispute, When the bundle is built, Then it
    validates against schema 2.0 and holds the masked customer, the case with Reg E deadlines, the
    missing evidence, the decision with its explanation and the next action."""
    b = _bundle([{"role": "customer", "text": "my parcel never came", "at": T0}])
    validate_bundle(b)
    assert b["schema_version"] == SCHEMA_VERSION == bundle_schema()["properties"]["schema_version"]["const"]
    assert b["customer"] == {"customer_ref": "demo-alice", "name_initial": "A.", "email_masked": "a***@example.com",
                             "vulnerable": False, "cards": [{"last4": "4242", "network": "visa", "card_type": "debit"}]}
    assert b["case"]["deadlines"]["regulation"] == "reg_e"
    assert b["case"]["history"][-1]["actor_kind"] == "assistant"
    assert "merchant_contact_attempt" in [i["key"] for i in b["case"]["evidence"]["missing_required"]]
    assert b["decisions"][0]["explanation"] == "amount over the assistant's limit"
    assert _leaks(b) == []


def test_a_card_number_typed_in_chat_is_masked_and_a_redactor_removes_cvv_and_dob():
    """Given a transcript where the customer typed a card number, a CVV and a date of birth, When the
    bundle is built with the injected redactor, Then none survives the scan; without the redactor the
    card number is still masked by the PCI guard (and the scan would catch the rest)."""
    msgs = [{"role": "customer", "text": "card 4111-1111-1111-1111 cvv 123, dob 07/14/1985"}]

    def redact(text):
        text = CVV_RE.sub("[CVV]", text)
        return re.sub(r"(?i)\bdob\s+\S+", "dob [DOB]", text)

    assert _leaks(_bundle(msgs, redact)) == []
    bare = _leaks(_bundle(msgs))
    assert not any(x.startswith("pan:") for x in bare) and "cvv:cvv 123" in bare and "dob:07/14/1985" in bare


def test_schema_refuses_a_date_of_birth_or_an_unmasked_email():
    """Given a valid bundle, When a date_of_birth is added to the customer or the email unmasked,
    Then validation fails (the schema is closed)."""
    b = _bundle([])
    b["customer"]["date_of_birth"] = "1985-07-14"
    with pytest.raises(jsonschema.ValidationError):
        validate_bundle(b)
    b = _bundle([])
    b["customer"]["email_masked"] = "alice@example.com"
    with pytest.raises(jsonschema.ValidationError):
        validate_bundle(b)


def test_the_whole_conversation_both_sides_with_times_to_the_second():
    """Given a chat of four turns on both sides, the times carrying microseconds, When the bundle is
    built, Then every turn is there in order with its role and a whole-second UTC time, and the
    window says nothing was left out."""
    at = datetime(2026, 3, 2, 9, 0, 5, 987654, tzinfo=timezone.utc)
    msgs = [{"role": "customer", "text": "find the acme payment", "at": at},
            {"role": "assistant", "text": "I found Acme, 42.00 USD on 2 March.", "at": at},
            {"role": "customer", "text": "it never arrived", "at": "2026-03-02T09:01:10.123456+00:00"},
            {"role": "assistant", "text": "I can open a dispute.", "at": None}]
    b = _bundle(msgs)
    validate_bundle(b)
    conv = b["conversation"]
    assert [(m["role"], m["text"]) for m in conv["messages"]] == [(m["role"], m["text"]) for m in msgs]
    assert [m["at"] for m in conv["messages"]] == ["2026-03-02T09:00:05Z", "2026-03-02T09:00:05Z",
                                                  "2026-03-02T09:01:10Z", None]
    assert conv["window"] == {"max_turns": MAX_TRANSCRIPT_TURNS, "max_chars": MAX_TRANSCRIPT_CHARS, "total_turns": 4,
                              "omitted_turns": 0, "first_cut": False}
    assert b["ticket"]["sla_due"].endswith(":00Z") and b["decisions"][0]["at"] == "2026-03-02T09:00:00Z"


def test_a_long_conversation_keeps_the_most_recent_turns_and_says_so():
    """Given a chat longer than the bundle's window, When the bundle is built, Then it keeps the most
    recent turns within both limits, the last one whole, and states how many earlier turns were left
    out and that the oldest kept one was cut."""
    msgs = [{"role": "customer" if i % 2 == 0 else "assistant", "text": f"turn {i} " + "x" * 300, "at": T0}
            for i in range(MAX_TRANSCRIPT_TURNS + 20)]
    b = _bundle(msgs)
    validate_bundle(b)
    conv = b["conversation"]
    texts = [m["text"] for m in conv["messages"]]
    assert texts[-1] == msgs[-1]["text"] and sum(map(len, texts)) <= MAX_TRANSCRIPT_CHARS
    assert conv["window"]["total_turns"] == len(msgs)
    assert conv["window"]["omitted_turns"] == len(msgs) - len(texts) > 20
    assert conv["window"]["first_cut"] is True and texts[0].startswith("\u2026")
    few = _bundle([{"role": "customer", "text": "hi", "at": T0}] * (MAX_TRANSCRIPT_TURNS + 5))["conversation"]
    assert len(few["messages"]) == MAX_TRANSCRIPT_TURNS and few["window"]["omitted_turns"] == 5


def test_schema_refuses_a_message_without_its_window_or_with_a_microsecond_time():
    """Given a valid bundle, When the window is dropped or a message time carries microseconds,
    Then validation fails."""
    b = _bundle([{"role": "customer", "text": "hi", "at": T0}])
    b["conversation"]["messages"][0]["at"] = "2026-03-02T09:00:00.123456Z"
    with pytest.raises(jsonschema.ValidationError):
        validate_bundle(b)
    b = _bundle([])
    del b["conversation"]["window"]
    with pytest.raises(jsonschema.ValidationError):
        validate_bundle(b)
