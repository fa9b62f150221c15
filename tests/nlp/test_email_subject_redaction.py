"""An email's subject is redacted by the same pass as the text triage reads (it is that text's start).

Why: redacted on its own, a subject kept what only the body showed to be personal ("my name is Jane
Doe" in the body, "Complaint - Jane Doe" as the subject), and the stored record carried the name.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlp.redact import PiiFinding, Redaction, redact, redacted_prefix
from nlp.triage import triage_email
from tests.support.mail import complaint_mail


BODY = "Hello,\n\nMy name is Jane Doe and the merchant charged me twice for one order on my debit card.\n\nThanks"


@pytest.mark.parametrize("subject, expected", [
    ("Re: Complaint - Jane Doe", "Re: Complaint - [NAME]"),
    ("Fwd: card 4111 1111 1111 1111 charged twice", "Fwd: card [CARD ****1111] charged twice"),
    ("Charged twice", "Charged twice"),
])
def test_the_subject_loses_what_the_body_shows_to_be_personal(subject, expected):
    """Given a mail whose body names the customer (and a subject with the name or a card number)
    When it is triaged
    Then the stored subject is redacted as in the triage text, reply prefix kept, and the name is
    nowhere in the result."""
    r = triage_email(complaint_mail(subject, BODY))
    assert r.email["subject"] == expected
    dumped = json.dumps(r.model_dump())
    assert "Jane" not in dumped and "Doe" not in dumped and "4111 1111" not in dumped


def test_a_prefix_ends_inside_a_finding_keeps_the_whole_token():
    """Given a text whose first 12 characters end inside a card number
    When the prefix's redaction is read
    Then the card's token is there whole, and no digit of the card."""
    text = "card 4111 1111 1111 1111 charged twice"
    assert redacted_prefix(redact(text), text, 12) == "card [CARD ****1111]"


def test_a_redaction_the_guard_changed_further_is_not_split():
    """Given a redaction whose text is not just its findings' replacement
    When the prefix's redaction is asked for
    Then there is none (the caller redacts the prefix on its own)."""
    red = Redaction(text="[NAME] paid [CARD ****1111]", pii_counts={"NAME": 1},
                    findings=[PiiFinding(type="NAME", start=0, end=3)])
    assert redacted_prefix(red, "Tom paid 4111111111111111", 3) is None


@given(st.lists(st.sampled_from(["My name is Jane Doe.", "card 4111 1111 1111 1111", "cvv 739", "charged $40.00",
                                 "on 03/02/2026", "ssn 123-45-6789", "Regards,\nAnna-Lena Smith", "hello", "\n\n"]),
                min_size=1, max_size=6), st.integers(0, 200))
def test_every_prefix_is_what_the_whole_redaction_shows(parts, n):
    """Given any text made of PII and ordinary phrases, and any prefix length
    When the prefix's redaction is read from the whole text's redaction
    Then it is the start of the redacted text with no token cut in half, and what follows its last
    token is the original text up to the prefix's end."""
    text = " ".join(parts)
    n = min(n, len(text))
    red = redact(text)
    part = redacted_prefix(red, text, n)
    assert part is not None and red.text.startswith(part)
    assert part.count("[") == part.count("]")
    tail = part[part.rfind("]") + 1:]
    assert text[:n].endswith(tail) or part.endswith("]")
