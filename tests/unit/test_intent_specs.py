"""The intent specs are the one source of truth for Lex, the emulator and the tests."""
from __future__ import annotations

import re

from intents.replies import keys, render
from intents.registry import all_slot_types, all_specs


def test_every_intent_has_enough_utterances_and_valid_slots():
    """Given the registry, When inspected, Then each intent Lex matches on has ≥ 15 distinct sample
    utterances, every {Slot} in them is a slot of that intent, and every slot type is defined."""
    builtin = {"AMAZON.Date", "AMAZON.Number", "AMAZON.AlphaNumeric", "AMAZON.FreeFormInput"}
    types = {t.name for t in all_slot_types()}
    for spec in all_specs():
        if spec.name == "FallbackIntent":
            continue
        assert len(set(spec.sample_utterances)) >= 15, spec.name
        names = {s.name for s in spec.slots}
        for u in spec.sample_utterances:
            assert set(re.findall(r"\{(\w+)\}", u)) <= names, (spec.name, u)
        for s in spec.slots:
            assert s.slot_type in builtin or s.slot_type in types, (spec.name, s.name, s.slot_type)
            assert s.prompt.strip()


def test_every_reply_template_renders():
    """Given the reply catalogue, When each template is rendered with representative values, Then
    none fails (a typo in a template must fail here, not in a customer's chat)."""
    ctx = dict(destination="***-0100", criteria="from Amazon", n=2, amount="$1.00", merchant="Shop", descriptor="SHOP 1",
               explained="x", when="Mon 1 Jan 2026", last4="4242", status="posted", declined=False, txn="the payment",
               reason="you didn't make it", total="$1.00", case_id="DSP-ABC123", credit_by="d", decide_by="d", state="opened",
               days=120, open=1, next_step="n", opened="d", ref="HND-ABC123", full=False, wait="about 1 hour",
               said="Your dispute DSP-ABC123 is filed.", next_due="d", next_what="a decision on your dispute",
               paid="Mon 1 Jan 2026", until="Tue 16 Jan 2026", slot="CardLast4", who="son")
    for key in keys():
        assert render(key, **ctx).strip(), key
