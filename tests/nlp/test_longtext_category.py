"""Category and non-complaint decisions of the long-text triage on letters of our own: hard-wrapped
mail, a denial with no complaint word, marketing and newsletters full of dispute words, thank-you
notes, and a held payment the author wants released."""
from __future__ import annotations

import pytest

from nlp.category_rules import rule_category
from nlp.longtext import SCOPE_NONE, SCOPE_OURS, triage_document
from nlp.triage import triage_text


class Recorder:
    """Stands in for the intent classifier: always unsure, records every sentence it is asked about."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, texts: list[str]) -> list[tuple[str, float]]:
        self.asked.extend(texts)
        return [("out_of_scope", 0.2) for _ in texts]


DENIAL = ("Dear bank,\n\n"
          "I have had my current account and my debit card with you for twenty years and I have always paid on time. "
          "Your branch staff were rude to me last week and the queue was long.\n\n"
          "On my statement there is a charge of $129.00 from an online shop I have never used. "
          "I did not make this purchase.\n\nRegards,\nPat")


def test_a_denial_without_complaint_words_is_asked_about():
    """Given a letter whose one denial ("I did not make this purchase.") has no complaint word
    When the document is triaged without rules
    Then that sentence is among those the classifier is asked about."""
    rec = Recorder()
    triage_document(DENIAL, rule=None, classify=rec)
    assert "I did not make this purchase." in rec.asked


def test_a_denial_buried_in_a_letter_is_unauthorised_with_its_sentence():
    """Given the same letter with the rules
    When it is triaged as an email
    Then it is ours, unauthorised, and the category evidence is the denial."""
    r = triage_text(DENIAL, channel="email")
    assert r.scope == SCOPE_OURS and r.category == "unauthorised"
    assert any(e["decision"] == "category" and "did not make this purchase" in e["sentence"] for e in r.evidence)


WRAPPED = ("Hello,\n\n"
           "I cancelled my streaming membership on the 2nd of October and I still have the email\n"
           "confirming it, but they went on and renewed it and took another $15.99 from my\n"
           "debit card this month. I want the money back.\n\nThanks,\nSam")


def test_a_rule_reads_a_sentence_across_hard_line_wraps():
    """Given a mail whose cancelled-subscription sentence is wrapped over three lines
    When the document is triaged with the rules
    Then the rule reads the whole sentence and the category is cancelled_recurring."""
    doc = triage_document(WRAPPED, rule=rule_category)
    assert doc.scope == SCOPE_OURS and doc.category == "cancelled_recurring"
    assert doc.category_source == "longtext:rule:charged_after_cancelling"


CARD_OFFER = ("Great news: your new Platinum Cashback card is waiting\n\n"
              "You qualify for our Platinum Cashback credit card with 3% back on groceries.\n\n"
              "- Fraud protection: you are never liable for unauthorised charges.\n"
              "- Dispute any transaction from your phone in two taps.\n"
              "- Duplicate charges are spotted and refunded automatically.\n\n"
              "To opt out of future offers, reply STOP.")


def test_a_card_offer_full_of_dispute_words_is_not_a_complaint():
    """Given a marketing mail whose bullet points use dispute language in the second person and
    one opt-out marker
    When it is triaged as an email
    Then it is not a complaint and carries no urgency."""
    r = triage_text(CARD_OFFER, channel="email")
    assert r.scope == SCOPE_NONE and r.category == "out_of_scope"
    assert r.urgency_reasons == []


NEWSLETTER = ("Card Fraud Digest, December edition\n\n"
              "Merchants tell us cardholders who say \"I never authorised this payment\" often made it themselves. "
              "Unauthorized transactions on prepaid cards rose again this quarter. "
              "Disputed charges now take 40 days to settle on average.\n\n"
              "You're receiving this because you signed up at our conference.")


def test_a_newsletter_quoting_a_cardholder_is_not_a_complaint():
    """Given a newsletter whose only first-person words are a quoted cardholder's, with a
    "you're receiving this because" footer
    When it is triaged as an email
    Then it is not a complaint, and the footer is among the reasons."""
    r = triage_text(NEWSLETTER, channel="email")
    assert r.scope == SCOPE_NONE
    assert "receiving this" in r.scope_reason


COMPLAINT_WITH_MARKER = ("Charges after I tried to unsubscribe\n\n"
                         "I never authorised this payment of $49.00 to a dating site. "
                         "I want to dispute the charge on my debit card today. "
                         "Their own page says click here to cancel, which does nothing.")


def test_a_complaint_in_the_authors_own_voice_outweighs_one_marker():
    """Given a complaint with two dispute sentences in the author's own voice and one spam-like marker
    When it is triaged as an email
    Then it stays ours."""
    r = triage_text(COMPLAINT_WITH_MARKER, channel="email")
    assert r.scope == SCOPE_OURS and r.category == "unauthorised"


THANKS = ("Re: your refund\n\nThank you so much, the $38.10 has been credited back to my account and the shop "
          "sent a nice note. Lovely service.\n\nJo")
THANKS_AND_MORE = ("Re: your refund\n\nThank you, the $38.10 has been credited back to my account. "
                   "But now there is another charge from the same shop that I don't recognise, can you look?\n\nJo")


def test_a_thank_you_for_a_settled_dispute_is_not_a_complaint():
    """Given a thank-you note for a refund already credited, asking for nothing
    When it is triaged as an email
    Then it is not a complaint, with the thank-you sentence as evidence."""
    r = triage_text(THANKS, channel="email")
    assert r.scope == SCOPE_NONE and r.scope_reason.startswith("thank-you note")
    assert any("Thank you so much" in e["sentence"] for e in r.evidence)


def test_a_thank_you_that_raises_a_new_charge_is_a_complaint():
    """Given a thank-you that goes on to report a charge the author does not recognise
    When it is triaged as an email
    Then it is ours and unauthorised: a new dispute is never dropped as a thank-you."""
    r = triage_text(THANKS_AND_MORE, channel="email")
    assert r.scope == SCOPE_OURS and r.category == "unauthorised"


HELD = ("Order blocked\n\nHi, yesterday evening I was trying to buy flights to see my family for $612.00 and now the "
        "payment is on hold. It really was me. Please release it before the fare goes up.")


def test_a_held_payment_the_author_wants_released_is_ours():
    """Given a short mail about a payment on hold that the author made and wants released, with
    no "my card" near the word payment
    When it is triaged as an email
    Then it is ours, declined_or_held (the holds queue), with time pressure left alone."""
    r = triage_text(HELD, channel="email")
    assert r.scope == SCOPE_OURS and r.category == "declined_or_held"


DISCLAIMER = ("Hello,\n\nThe hotel charged me $75.00 more than the confirmed rate and I want to dispute the "
              "difference on my credit card.\n\nKind regards\n\n"
              "This message is confidential. If you have received this email in error, please notify the sender "
              "immediately and delete it. Any unauthorised use may result in legal action.")


def test_a_legal_disclaimer_adds_no_urgency():
    """Given an incorrect-amount complaint with a confidentiality footer ("notify ... immediately",
    "legal action")
    When it is triaged as an email
    Then the category is incorrect_amount and the footer adds neither time pressure nor a legal threat."""
    r = triage_text(DISCLAIMER, channel="email")
    assert r.category == "incorrect_amount"
    assert "time_pressure" not in r.urgency_reasons and "legal_threat" not in r.urgency_reasons


def test_explicit_dispute_phrases_with_amounts_and_cancellations_are_dispute_language():
    """Given dispute phrases DISPUTE_RX misses (an amount between "dispute" and "charge", charging
    after a cancellation, a charge for something cancelled, a held payment, an unrecognised charge)
    When the sentence signals are read
    Then each is explicit dispute language, which the scope verdict weighs against other-product words."""
    from nlp.doc_signals import dispute_hits

    for text in ["Please dispute the $1,150.00 charge from the caterer.",
                 "The club keeps charging me after I cancelled in June.",
                 "We were charged for a cancelled flight.",
                 "My payment is on hold and the seller will not wait.",
                 "There are two charges on my statement I don't recognise."]:
        assert dispute_hits(text), text
    assert dispute_hits("We had a lovely holiday and the weather was fine.") == []


@pytest.mark.parametrize("body", [
    "Discover sent unauthorized credit cards in my name to addresses that I haven't lived at to a fraudulent "
    "user that illegally used the card.",
    "Trying to purchase gas with the card. It is not working. We are out of state traveling. Called the number "
    "on the back of the card and was told to call back during business hours.",
])
def test_an_author_speaking_for_themselves_about_a_card_is_a_complaint(body):
    """Given a short complaint in the author's own voice that never says "my card" or "my account"
    When it is triaged as an email
    Then it is read as a complaint, not as "no complaint by the author" (which is for stories)."""
    r = triage_text(body, channel="email")
    assert r.scope != SCOPE_NONE, r.reason


def test_a_characters_first_person_dialogue_does_not_make_a_story_a_complaint():
    """Given a story about a debt whose only first-person words are a character's, quoted across sentences
    When it is triaged as an email
    Then it is still not a complaint (the author never speaks for themselves)."""
    story = ('The letter came on a Tuesday. "Final demand," it said, as though red ink could make a debt more '
             'real. The lawyer had never once paid for his own pint. She called her sister. "I need you to come," '
             'she said. "Today. Please. I can\'t do this alone any more."')
    r = triage_text(story, channel="email")
    assert r.scope == SCOPE_NONE, r.scope_reason
