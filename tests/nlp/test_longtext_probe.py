"""What the second outside tester's blind probe found (``tests/fixtures/probe_emails``, session 5),
one general case each, on text of our own: short complaints that never say "my card", a thank-you
for someone's help, a note between colleagues, a letter about two products, letters in Spanish, and
the product a letter names in so many words."""
from __future__ import annotations

import pytest

from nlp.longtext import SCOPE_NONE, SCOPE_OTHER, SCOPE_OURS
from nlp.scope import family_of_hit
from nlp.triage import triage_text
from training.outside_eval import PROBE, evaluate


@pytest.mark.parametrize("body", [
    "Card declined at the pump again, third time this week, fix it",
    "who is NFLX*DIGITAL and why r they taking 15.99 off me every month i never signed up for anything",
    "hola hice una transferencia de 850 dolares a mi mama por medio de su app y ella todavia no recibe nada. "
    "me cobraron la comision de 12 dolares tambien. que paso con mi dinero??",
])
def test_short_complaints_in_other_words_are_complaints(body):
    """Given a one- or two-line complaint that never says "my card" (a decline, an unknown subscription,
    a Spanish transfer that never arrived)
    When it is triaged as an email
    Then it is not dropped as "not a complaint"."""
    r = triage_text(body, channel="email")
    assert r.scope != SCOPE_NONE, r.scope_reason


@pytest.mark.parametrize("body", [
    "hey - still on for lunch thursday? I'll grab the bill this time since you got it last week (your card, my "
    "turn lol). also can you bring the slides from the review, I lost my copy. -T",
    "Hi Maria, I just wanted to say thank you so much for your help last week with the double charge from the "
    "airline. The refund of $436 showed up on my card this morning. Have a wonderful Thanksgiving! Grace",
])
def test_a_note_and_a_thank_you_for_help_are_not_complaints(body):
    """Given a colleague's lunch note that mentions a bill and a card, and a thank-you for someone's help
    with a dispute whose refund has arrived (the next sentence says so)
    When each is triaged as an email
    Then neither is a complaint ("thank you for your help" asks for nothing)."""
    r = triage_text(body, channel="email")
    assert r.scope == SCOPE_NONE, (r.scope, r.scope_reason)


@pytest.mark.parametrize("card_part", [
    "Second, and more urgent, there is a debit card charge on my checking account for $742.18 at "
    "'BESTBUY.COM 8004' on November 10th that I did not make. Please block the card.",
    "Anyway the actual thing for you: my card statement shows $184.20 for an $84.20 dinner. Can you dispute the "
    "extra $100?",
])
def test_a_card_dispute_beside_a_longer_other_product_story_is_ours(card_part):
    """Given a letter mostly about a mortgage escrow or a student loan servicer, with one paragraph
    disputing a card transaction (denied, or asked to be disputed by its amount)
    When it is triaged as an email
    Then it is ours, and the reason names the other product it also mentions."""
    body = ("First, my mortgage with you. My escrow analysis says I have a $2,100 shortage, the mortgage servicing "
            "people are researching it and my student loan servicer lost my paperwork twice.\n\n" + card_part)
    r = triage_text(body, channel="email")
    assert r.scope == SCOPE_OURS, r.scope_reason
    assert "also mentions another product" in r.scope_reason


def test_a_spanish_mortgage_letter_is_another_product():
    """Given a Spanish letter about a mortgage modification and a foreclosure notice (the scope model
    learnt English letters only)
    When it is triaged as an email
    Then the rules decide: another product, the mortgage."""
    body = ("Les escribo porque solicité una modificación de mi préstamo hipotecario en julio. Ahora me dicen que "
            "la solicitud fue negada. Siguen cobrando cargos por pago tardío y me enviaron una carta de ejecución "
            "hipotecaria. Tengo miedo de perder mi casa. Por favor revisen mi caso.")
    r = triage_text(body, channel="email")
    assert (r.scope, r.product) == (SCOPE_OTHER, "mortgage"), r.scope_reason


@pytest.mark.parametrize("hit, family", [("escrow", "mortgage"), ("personal loan", "personal_loan"),
                                         ("equifax", "credit_reporting"), ("collection agency", "debt_collection"),
                                         ("repossessed", "vehicle_loan"), ("navient", "student_loan"),
                                         ("hipoteca", "mortgage")])
def test_other_product_words_name_their_product(hit, family):
    """Given an other-product word the rules found
    When its product is asked
    Then it is the model class an agent would name."""
    assert family_of_hit(hit) == family


def test_probe_emails_keep_their_scope_and_product():
    """Given the second tester's 40 raw e-mails (20 ours, 12 other products, 8 non-complaints)
    When each is triaged
    Then at least 95% get the expected scope (was 77.5% when they arrived), at least 11 of the 12
    other products are named right, and no listed secret or fact is lost."""
    r = evaluate(PROBE, "probe")
    assert r["probe_emails"] == 40
    assert r["probe_scope_pct"] >= 95.0, r["probe_scope_misses"]
    assert r["probe_product_cases"] == 12 and r["probe_product_right"] >= 11
    assert r["probe_must_redact_leaked"] == 0 and r["probe_must_keep_dropped"] == 0
