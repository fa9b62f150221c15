"""Is a document a complaint at all? The non-complaint gate of the long-text triage
(``nlp.longtext``): spam, newsletters, auto-replies, stories, bare notes and thank-you notes for a
dispute already settled are not complaints, whatever card words they hold; a short real complaint
that never says "my card" is one. Also the per-sentence rule signals the gate and the scope
decision share (``Signals``)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from nlp.doc_signals import (REQUEST_RX, RESOLVED_RX, THANKS_RESOLVED_RX, complaint_hits, dispute_hits,
                             noncomplaint_hits, other_product_hits, personal_hits)

__all__ = ["Signals", "noncomplaint", "AUTHOR_RX", "MAX_EVIDENCE"]

MAX_EVIDENCE = 3
SHORT_NOTE_WORDS = 40  # a request without "I" or "my" makes a complaint only of a note this short


@dataclass(frozen=True)
class Signals:
    """Each rule signal of each sentence, computed once per document (the regexes are most of the
    rule cost, and the decisions below read them several times)."""

    complaint: list[int]
    disputes: list[list[str]]
    others: list[list[str]]

    @classmethod
    def of(cls, sentences: list[str]) -> "Signals":
        return cls([complaint_hits(s) for s in sentences], [dispute_hits(s) for s in sentences],
                   [other_product_hits(s) for s in sentences])


# "Please find attached", "pièce jointe": a spam or a bare "file attached" note says it, and so does
# a customer sending their statement with a complaint. Alone, such a marker does not outweigh the
# author's own complaint (see ``noncomplaint``).
_ATTACHMENT_RX = re.compile(r"(?i)attach|joint|adjunt|anhang|anbei|anexo|allegato")


def noncomplaint(sentences: list[str], text: str, sig: Signals) -> tuple[str, list[tuple[int, str]]] | None:
    """(reason, [(sentence index, signal)]) when the document is not a complaint."""
    markers = [(i, h[0]) for i, s in enumerate(sentences) if (h := noncomplaint_hits(s))]
    complaint = sum(sig.complaint)
    disputes = [(i, h[0]) for i, h in enumerate(sig.disputes) if h]
    words = max(1, len(text.split()))
    if complaint == 0:
        return "no complaint language", markers[:MAX_EVIDENCE] or [(0, "no complaint words")]
    personal = [i for i, s in enumerate(sentences) if personal_hits(s)]
    if not personal and not disputes and not any(sig.others) and not _speaks_of_a_problem(text, complaint):
        # Money words without the author's own account, card or charge, and no product a complaint
        # is about (a credit report, a collector, a mortgage): a story, not a complaint. Real letters
        # that say "the account" and "the bureau" rather than "my card" are complaints all the same,
        # and so is an author who speaks for themselves about a card or bank in other words ("Discover
        # sent unauthorized credit cards in my name", "the card is not working, we are out of state").
        return "no complaint by the author", markers[:MAX_EVIDENCE] or [(0, "no first-person complaint")]
    if markers and personal and complaint >= 3 and all(_ATTACHMENT_RX.search(m) for _, m in markers):
        markers = []  # "please find attached my statement" under the author's own complaint
    # Marketing and spam mention cards and payments too: markers win unless the author disputes
    # something explicitly and at some length, in their own voice. A card offer's "you're never
    # charged for unauthorized transactions" or a newsletter's quoted "I don't recognize this
    # charge" is dispute language, but nobody's own dispute.
    own = [i for i, _ in disputes if _own_voice(sentences[i])]
    if markers and (len(own) < 2 or len(markers) > len(own)):
        return f"non-complaint markers ({', '.join(sorted({m for _, m in markers})[:4])})", markers[:MAX_EVIDENCE]
    thanks = _thanks_only(sentences, text, sig)
    if thanks:
        return "thank-you note: resolved, nothing asked", thanks
    if complaint == 1 and not disputes and words < 25:
        return "too little complaint language", [(i, "one complaint word") for i, n in enumerate(sig.complaint)
                                                 if n][:1]
    return None


# The author speaking for themselves ("I will contact my lawyer", "my husband passed away"), not a
# footer ("unauthorised use may result in legal action") or a newsletter ("our lawyers say").
_I = r"i|i['’](?:m|ll|ve|d)|me|my|myself|mine"
AUTHOR_RX = re.compile(rf"(?i)(?<![\w'’])(?:{_I})(?![\w'’])")
_FIRST_PERSON_RX = re.compile(rf"(?i)(?<![\w'’])(?:{_I}|we|we['’](?:re|ve|d|ll)|us|our)(?![\w'’])")
_FIRST_PERSON_ES_RX = re.compile(r"(?i)(?<![\w'’])(?:mi|mis|yo|nosotros|nuestr[oa]s?)(?![\w'’])")
_PROBLEM_RX = re.compile(
    r"(?i)\b(?:not|never|no|nada|nunca|without|wrong|error|unauthori[sz]ed|fraud\w*|scam\w*|declin\w*|refus\w*|fail\w*"
    r"|stolen|missing|denied|frozen|blocked|fix\s+it|todav[íi]a)\b|n['’]t\b")


def _speaks_of_a_problem(text: str, complaint: int) -> bool:
    """A short complaint in other words than "my card": two complaint words, the author speaking for
    themselves or asking for something, and a problem ("Discover sent unauthorized credit cards in
    my name", "the card is not working, we are out of state", "Card declined at the pump again, fix
    it"). Quotations are dropped from the whole text first: a story's dialogue ("I can't do this
    alone any more," she said) spans sentences, and it is a character speaking, not the author. A
    note that only mentions a bill and a card ("I'll grab the bill, your card last time") names no
    problem."""
    if complaint < 2:
        return False
    own = _QUOTED_RX.sub(" ", text)
    asks = len(own.split()) < SHORT_NOTE_WORDS and REQUEST_RX.search(own)  # "… again, fix it": a short note asking
    return bool((_FIRST_PERSON_RX.search(own) or _FIRST_PERSON_ES_RX.search(own) or asks) and _PROBLEM_RX.search(own))


_QUOTED_RX = re.compile(r'"[^"]{0,200}"|“[^”]{0,200}”|«[^»]{0,200}»')
_THANKS_WORDS = ("thank", "appreciat", "grateful", "gracias", "merci", "danke")


def _own_voice(sentence: str) -> bool:
    """The author speaks for themselves outside quotation marks ("I don't recognize this charge"
    quoted in a newsletter is a cardholder's words, not the sender's)."""
    return bool(AUTHOR_RX.search(_QUOTED_RX.sub(" ", sentence)))


def _thanks_only(sentences: list[str], text: str, sig: Signals) -> list[tuple[int, str]]:
    """The sentences thanking us for a dispute already settled, when the mail asks for nothing
    else (no request, no "still", "but", "again") and no other sentence disputes anything; else []."""
    low = text.lower()
    if not any(w in low for w in _THANKS_WORDS):  # most mail thanks nobody: skip the patterns
        return []
    hits = [i for i, s in enumerate(sentences)  # "thank you for your help. The refund showed up on my card"
            if any(w in s.lower() for w in _THANKS_WORDS)
            and (THANKS_RESOLVED_RX.search(" ".join(s.split()))
                 or RESOLVED_RX.search(" ".join(" ".join(sentences[i + 1:i + 2]).split())))]
    if not hits or any(REQUEST_RX.search(s) for s in sentences):
        return []
    if any(sig.disputes[i] for i in range(len(sentences)) if i not in hits):
        return []
    return [(i, "thanks for a resolved dispute") for i in hits[:MAX_EVIDENCE]]
