"""The intent classifier on a long letter's sentences, and the letter's intent read from them.

Why not the whole letter: the classifier reads 64 tokens, and a letter's opening rarely says what it
is about (confident on 6 of 106 in-scope CFPB letters, at ~9 ms a call, a third of the long-text
path). ``nlp.longtext`` asks about the few sentences that can decide the category; the label of the
one that did is the letter's intent, so intent and category never disagree.
"""
from __future__ import annotations

from typing import Any

from nlp.longtext import SCOPE_OURS, ClassifyFn, DocumentTriage, SentenceAnswer

__all__ = ["sentence_classifier", "document_intent"]


def sentence_classifier(clf: Any) -> ClassifyFn:
    """texts -> [SentenceAnswer] for the long-text triage: the category (``out_of_scope`` when the
    classifier abstains) with its probability mass, and the top label with the top 3."""
    def classify(texts: list[str]) -> list[SentenceAnswer]:
        import numpy as np

        from nlp.classifier import softmax
        from nlp.taxonomy import label_to_category

        if not texts:
            return []
        probs = softmax(np.asarray(clf.logits(texts)), clf.temperature)
        categories = [label_to_category(lab) for lab in clf.labels]
        out = []
        for row in probs:
            mass: dict[str, float] = {}
            for cat, p in zip(categories, row):
                mass[cat] = mass.get(cat, 0.0) + float(p)
            order = np.argsort(-row, kind="stable")
            top = int(order[0])
            unsure = float(row[top]) < clf.threshold
            cat = "out_of_scope" if unsure else categories[top]
            top3 = tuple((clf.labels[int(i)], round(float(row[int(i)]), 6)) for i in order[:3])
            out.append(SentenceAnswer(cat, mass.get(cat, 0.0), clf.labels[top], float(row[top]), top3))
        return out
    return classify


def document_intent(doc: DocumentTriage, foreign: bool) -> tuple[str, float, list[tuple[str, float]], str | None]:
    """(intent, confidence, top 3, Lex intent) of a long text, from its document-level decision.

    A letter's opening 64 tokens say little (the classifier was confident on 6 of 106 in-scope
    CFPB letters, at ~9 ms a call), so a long text is not classified as a whole: its intent is the
    classifier's label of the sentence that decided its category. Not ours, a category decided by
    a rule (the rules name categories, not BANKING77 labels), no confident sentence, or a
    non-English text: ``unsure`` (the email consumer then escalates, as before)."""
    from nlp.taxonomy import label_to_lex_intent

    answer = doc.category_answer
    if doc.scope != SCOPE_OURS or answer is None or answer.label is None:
        return "unsure", 0.0, [], None
    top3 = [(lab, p) for lab, p in answer.top3]
    if foreign:
        return "unsure", answer.label_confidence, top3, None
    return answer.label, answer.label_confidence, top3, label_to_lex_intent(answer.label)
