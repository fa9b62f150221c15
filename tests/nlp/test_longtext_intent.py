"""The intent of a long text comes from its document-level decision, not from its opening 64 tokens.

Why: the opening of a complaint letter rarely says what it is about (the classifier was confident on
6 of 106 in-scope CFPB letters) and classifying it cost ~9 ms a letter, a third of the long-text
path. A long text's intent is the classifier's label of the sentence that decided its category;
otherwise it is ``unsure`` and the email consumer escalates as it did.
"""
from __future__ import annotations

from nlp.longtext import SCOPE_OURS, DocumentTriage, SentenceAnswer
from nlp.letter_intent import document_intent
from nlp.triage import triage_text
from tests.support.classifier import FakeClassifier

# No rule names a category here ("charged twice", "never arrived" ... are absent): the classifier decides.
UNRECOGNISED = (
    "Dear Sir or Madam, I have held a checking account with your bank for nine years and I use my debit card "
    "for most of my shopping. I moved house in the spring and updated my address in the app without trouble. "
    "On 03/14/2026 a payment of $212.40 to a merchant I have never heard of appeared on my debit card statement. "
    "I have no idea what this payment is and nobody else has my card. Please investigate and return my money.")


def test_long_letter_takes_the_label_of_the_sentence_that_decided_its_category():
    """Given a long card complaint with no rule category and a classifier sure of its sentences
    When it is triaged as an email
    Then the intent is the label of the sentence that decided the category, with its Lex intent and
    top 3, and the whole text was never classified (only single sentences were)."""
    clf = FakeClassifier("card_payment_not_recognised", 0.9)
    r = triage_text(UNRECOGNISED, channel="email", classifier=clf)
    assert r.scope == SCOPE_OURS and r.category_source == "longtext:classifier"
    assert r.category == "unauthorised"
    assert r.intent == "card_payment_not_recognised" and r.lex_intent == "FileDispute"
    assert r.intent_confidence == 0.9 and r.intent_top3[0] == ("card_payment_not_recognised", 0.9)
    assert clf.seen and all(len(t) < len(r.redacted_text) / 2 for t in clf.seen)
    decided = [e["sentence"] for e in r.evidence if e["decision"] == "category"]
    assert decided and decided[0] in clf.seen


def test_long_letter_whose_category_a_rule_decided_is_unsure():
    """Given a long letter that says "charged me twice" (a rule names the category) and a classifier
    that would be confident on anything
    When it is triaged as an email
    Then the category is the rule's, the classifier is not asked, and the intent is unsure (a rule names
    a category, not a BANKING77 label: the email consumer escalates it to a person, as before)."""
    clf = FakeClassifier("transaction_charged_twice", 0.95)
    letter = UNRECOGNISED.replace("I have no idea what this payment is", "The merchant charged me twice for it")
    r = triage_text(letter, channel="email", classifier=clf)
    assert r.category == "duplicate_charge" and r.category_source.startswith("longtext:rule:")
    assert (r.intent, r.lex_intent, r.intent_confidence, r.intent_top3) == ("unsure", None, 0.0, [])
    assert clf.seen == []


def test_long_letter_about_another_product_is_unsure_whatever_the_classifier_says():
    """Given a long letter about a credit report and a classifier confident on a card label
    When it is triaged as an email
    Then it is not ours, and its intent is unsure with no Lex intent (the classifier is not asked)."""
    letter = ("I have disputed the same inaccurate late payment with Equifax, Experian and TransUnion three times. "
              "The credit bureaus keep reporting a collection account that I paid off in 2023, and my credit score "
              "dropped by 80 points. Under the FCRA they must investigate and correct my credit report. "
              "I have sent the bureaus copies of my letters twice, and nothing has changed on my credit file. "
              "This tradeline is costing me a mortgage approval.")
    clf = FakeClassifier("card_payment_not_recognised", 0.95)
    r = triage_text(letter, channel="email", classifier=clf)
    assert r.scope == "other_product"
    assert (r.intent, r.lex_intent) == ("unsure", None)
    assert clf.seen == []


def test_non_english_long_text_keeps_its_category_but_not_the_intent():
    """Given the document decision of a letter whose category the classifier decided on a sentence
    When its intent is read for an English text and for a confidently non-English one
    Then the English one gets the sentence's label; the other is unsure with no Lex intent (the
    classifier is English-only) but keeps the top 3 for the agent."""
    answer = SentenceAnswer("unauthorised", 0.93, "card_payment_not_recognised", 0.9,
                            (("card_payment_not_recognised", 0.9), ("compromised_card", 0.02)))
    doc = DocumentTriage(SCOPE_OURS, "card payment or account complaint", 0.8, None, "unauthorised", 0.93,
                         "longtext:classifier", 0.0, [], category_answer=answer)
    assert document_intent(doc, foreign=False)[::3] == ("card_payment_not_recognised", "FileDispute")
    intent, conf, top3, lex = document_intent(doc, foreign=True)
    assert (intent, lex) == ("unsure", None) and top3[0] == ("card_payment_not_recognised", 0.9)


def test_short_email_is_still_classified_whole():
    """Given an email shorter than a letter (under LONG_TEXT_CHARS) that a rule and the classifier agree on
    When it is triaged
    Then the classifier reads the whole text as before, its confident label is the intent (the email
    consumer may file the dispute under policy), and the document decision still gives the scope."""
    clf = FakeClassifier("transaction_charged_twice", 0.9)
    text = "Charge problem\n\nI was charged twice by Costco Wholesale, $177.90, for one trip. Please refund it."
    r = triage_text(text, channel="email", classifier=clf)
    assert clf.seen[0] == r.redacted_text
    assert r.scope == SCOPE_OURS and r.category == "duplicate_charge"
    assert r.intent == "transaction_charged_twice" and r.lex_intent == "FileDispute"


def test_short_chat_message_is_still_classified_whole():
    """Given a short chat message
    When it is triaged
    Then the classifier reads the whole message and its confident label is the intent (short path unchanged)."""
    clf = FakeClassifier("card_payment_not_recognised", 0.9)
    r = triage_text("I do not recognise this payment on my card", classifier=clf)
    assert clf.seen == [r.redacted_text]
    assert r.intent == "card_payment_not_recognised" and r.scope is None
