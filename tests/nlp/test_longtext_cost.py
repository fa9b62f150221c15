"""The long-text path spends transformer calls only where they can change the answer."""
from __future__ import annotations

from nlp.longtext import CONFIDENT_CATEGORY, SCOPE_OURS, triage_document
from nlp.scope import features

LETTER = ("I am writing about my debit card account. Last month I noticed a payment on my card statement "
          "that I cannot explain and I want my money back. I called the bank twice and nobody helped me. "
          "The payment on my card is still there and my account is short. Please refund this payment to my "
          "card as soon as possible. I have been a customer for years and I am very unhappy with my account.")


class Recorder:
    """Stands in for the intent classifier: answers from a script and records every call."""

    def __init__(self, answers: list[tuple[str, float]]):
        self.answers = list(answers)
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> list[tuple[str, float]]:
        self.calls.append(list(texts))
        return [self.answers.pop(0) for _ in texts]


def test_a_confident_first_sentence_ends_the_classifier_calls():
    """Given a card complaint with no rule category and a classifier sure of the first sentence
    When the document is triaged
    Then the classifier runs once, and its category stands."""
    rec = Recorder([("unrecognised_charge", CONFIDENT_CATEGORY + 0.2), ("duplicate_charge", 0.99)])
    doc = triage_document(LETTER, rule=None, classify=rec)
    assert doc.scope == SCOPE_OURS
    assert len(rec.calls) == 1 and len(rec.calls[0]) == 1
    assert doc.category == "unrecognised_charge"


TWO_DISPUTES = ("The merchant charged me twice for one order on my debit card. "
                "I called the bank and nobody helped me with my account. "
                "The second one is an unauthorized charge on my card and I want a refund.")


def test_an_unsure_first_sentence_asks_about_the_next_dispute_sentence():
    """Given a classifier unsure about the first sentence and sure about another dispute sentence
    When the document is triaged
    Then it is asked about both, one sentence per call, and the second one's category stands."""
    rec = Recorder([("out_of_scope", 0.3), ("unrecognised_charge", 0.9), ("duplicate_charge", 0.95)])
    doc = triage_document(TWO_DISPUTES, rule=None, classify=rec)
    assert [len(c) for c in rec.calls] == [1, 1]
    assert all("nobody helped" not in c[0] for c in rec.calls)
    assert doc.category == "unrecognised_charge"
    assert any(e.decision == "category" for e in doc.evidence)


def test_lower_ranked_sentences_without_dispute_language_are_not_classified():
    """Given a letter with one dispute sentence and complaint sentences without dispute language
    When the classifier is unsure about the first sentence
    Then it is not asked about the others, and the category stays out_of_scope."""
    rec = Recorder([("out_of_scope", 0.3)] * 3)
    doc = triage_document(LETTER, rule=None, classify=rec)
    assert len(rec.calls) == 1
    assert doc.scope == SCOPE_OURS and doc.category == "out_of_scope"


def test_scope_features_include_character_grams_of_each_word():
    """Given a misspelt product word
    When the scope featuriser reads it
    Then its character grams are features, marked apart from the words."""
    feats = features("my mortgag payment")
    assert "mortgag" in feats and "my mortgag" in feats
    assert "#<mo" in feats and "#gag>" in feats
    assert not any(f.startswith("#") and " " in f for f in feats)


def test_sentences_without_complaint_words_are_not_classified():
    """Given a letter whose only complaint sentence is ranked among sentences with no complaint word
    When the document is triaged without a rule category
    Then the classifier is asked about complaint sentences only."""
    letter = ("I was charged twice by the merchant for one order on my debit card and want my money back. "
              "We moved to a lovely new town last spring with the children. "
              "The weather there is mild and the neighbours are friendly people.")
    rec = Recorder([("out_of_scope", 0.3)] * 3)
    triage_document(letter, rule=None, classify=rec)
    asked = [t for call in rec.calls for t in call]
    assert asked and all("weather" not in t and "moved" not in t for t in asked)
