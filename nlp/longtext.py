"""Document-level triage of long text (complaint emails and letters): scope, category, urgency,
and the sentences that decided each.

Why whole-document: the intent classifier reads the first 64 tokens, and a complaint letter puts
its point anywhere ("...in the fourth paragraph: I disputed the charge"). Here the redacted text is
split into sentences; each sentence gets signals (non-complaint markers, complaint words, explicit
dispute language, other-product words, and P(in scope) from ``nlp.scope``); the document's
decision aggregates them, and the deciding sentences are returned so an agent sees why.

Decisions, in order:
1. **not a complaint**: spam, newsletters, auto-replies, bounces, "file attached", marketing, a
   thank-you for a dispute already settled that asks for nothing, or text with no complaint word
   at all (a novel excerpt, a test mail, Chinese spam). Dispute language outweighs the markers
   only in the author's own voice: a card offer's "never charged for unauthorized transactions"
   is nobody's dispute.
2. **another product**: the scope model's P(in scope) is under its threshold and no explicit
   dispute language outweighs the other-product words; the reason names the product.
3. **ours**: everything else; the category comes from the dispute rules on the deciding
   sentences, else from the intent classifier on the most in-scope sentences (``classify``).
Urgency is scored on sentences of a complaint (a sentence with complaint words or its
neighbour), never on a non-complaint: "again" in a novel is not a repeat contact. The protected
signals (urgency.PROTECTED: vulnerability, legal threat, regulator) are the exception: wherever the
author speaks for themselves ("I will contact my lawyer") they count under every verdict, so a
mail about another product, or one that reads as no complaint, still reaches a person.

Input is redacted text only (``nlp.triage`` redacts first), so the sentences returned are redacted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple

from nlp import urgency as urgency_rules
from nlp.doc_signals import split_sentences
from nlp.language import detect_language
from nlp.noncomplaint import AUTHOR_RX, MAX_EVIDENCE, Signals, noncomplaint
from nlp.scope import PRODUCT_NAMES, family_of_hit, get_scope_model

__all__ = ["SCOPE_OURS", "SCOPE_OTHER", "SCOPE_NONE", "Evidence", "DocumentTriage", "SentenceAnswer", "ClassifyFn",
           "triage_document", "LONG_TEXT_CHARS", "VERSION", "is_ours", "rule_counts"]

VERSION = "longtext-1"
SCOPE_OURS = "ours"
SCOPE_OTHER = "other_product"
SCOPE_NONE = "not_a_complaint"
LONG_TEXT_CHARS = 400  # chat text at least this long takes the document path; email always does
MAX_SENTENCES = 200  # a page of text; the rest of a very long mail is not read sentence by sentence
EVIDENCE_CHARS = 300
CONFIDENT_CATEGORY = 0.6  # a sentence's category this sure ends the classifier calls on a letter

# (category, rule) from the short-text rules, passed in by nlp.triage to keep one definition.
RuleFn = Callable[[str], "tuple[str, str] | None"]


class SentenceAnswer(NamedTuple):
    """The intent classifier on one sentence: its category (``out_of_scope`` when it abstains) and
    that category's probability mass, and, when the caller has them, the top label, its probability
    and the top 3 (what ``nlp.triage`` reports as the letter's intent)."""

    category: str
    confidence: float
    label: str | None = None
    label_confidence: float = 0.0
    top3: tuple[tuple[str, float], ...] = ()


# texts -> one answer per text ((category, confidence) pairs or SentenceAnswer) from the intent
# classifier (None: not available).
ClassifyFn = Callable[[list[str]], "list[tuple[str, float]] | list[SentenceAnswer]"]


@dataclass(frozen=True)
class Evidence:
    decision: str  # "scope" | "category" | "urgency:<reason>"
    sentence: str  # redacted
    index: int
    signal: str  # what in it counted


@dataclass
class DocumentTriage:
    scope: str
    scope_reason: str
    scope_confidence: float
    product: str | None
    category: str
    category_confidence: float
    category_source: str
    urgency: float
    urgency_reasons: list[str]
    evidence: list[Evidence] = field(default_factory=list)
    sentences: int = 0
    model_version: str = "unavailable"
    # The classifier's answer on the sentence that decided the category (None: a rule decided it,
    # or nothing did); ``nlp.triage`` reads the letter's intent from it.
    category_answer: SentenceAnswer | None = None

    def evidence_dicts(self) -> list[dict[str, object]]:
        return [{"decision": e.decision, "sentence": e.sentence, "index": e.index, "signal": e.signal}
                for e in self.evidence]


def _clip(s: str) -> str:
    s = " ".join(s.split())
    return s if len(s) <= EVIDENCE_CHARS else s[:EVIDENCE_CHARS - 1] + "…"


def _protected(sentences: list[str]) -> tuple[float, list[str], list[Evidence]]:
    """The signals that must reach a person whatever the scope verdict (urgency.PROTECTED), from
    every sentence in which the author speaks for themselves, with the sentence that carries each."""
    own = [(i, s) for i, s in enumerate(sentences) if AUTHOR_RX.search(s)]
    urg = urgency_rules.score_urgency("\n".join(s for _, s in own))
    reasons = [r for r in urg.reasons if r in urgency_rules.PROTECTED]
    ev: list[Evidence] = []
    for reason in reasons:
        hit = next(((i, s, p) for i, s in own for p in urg.evidence.get(reason, []) if p in s.lower()), None)
        if hit is not None:
            ev.append(Evidence(f"urgency:{reason}", _clip(hit[1]), hit[0], hit[2]))
    return urgency_rules.combine(reasons, self_harm=urg.self_harm), reasons, ev


def _urgency(sentences: list[str], amounts: Iterable[object], repeat_contact: bool,
             sig: Signals) -> tuple[float, list[str], list[Evidence]]:
    """Urgency on complaint sentences (a sentence with complaint words, or next to one), plus the
    protected signals wherever the author states them."""
    flags = [n > 0 for n in sig.complaint]
    ctx = [s for i, s in enumerate(sentences)
           if flags[i] or (i > 0 and flags[i - 1]) or (i + 1 < len(flags) and flags[i + 1])]
    urg = urgency_rules.score_urgency("\n".join(ctx), list(amounts), repeat_contact=repeat_contact)
    ev: list[Evidence] = []
    for reason in urg.reasons:
        phrases = [p for p in urg.evidence.get(reason, []) if not p.startswith("flag:")]
        for i, s in enumerate(sentences):
            low = s.lower()
            hit = next((p for p in phrases if p in low), None)
            if hit is not None and s in ctx:
                ev.append(Evidence(f"urgency:{reason}", _clip(s), i, hit))
                break
    _, protected, protected_ev = _protected(sentences)
    extra = [r for r in protected if r not in urg.reasons]
    if not extra:
        return urg.score, list(urg.reasons), ev
    reasons = [r for r in urgency_rules.REASONS if r in urg.reasons or r in extra]
    ev += [e for e in protected_ev if e.decision.partition(":")[2] in extra]
    return max(urg.score, urgency_rules.combine(reasons)), reasons, ev


def _candidates(ranked: list[int], sig: Signals) -> list[int]:
    """The sentences worth a transformer call (~5 ms each, most of a letter's cost), in rank order:
    the first one with a complaint word, then only those carrying explicit dispute language.
    Measured on 108 CFPB letters that reach this step (``docs/longtext.md``): a sentence without
    any complaint word never got a category, and a lower-ranked one without dispute language got
    one 7% of the time; asking about those cost 1.2 of 2.75 calls per letter. Explicit dispute
    language counts as a complaint word here: "I did not make this purchase." has none of them."""
    asked = [i for i in ranked if sig.complaint[i] or sig.disputes[i]]
    return asked[:1] + [i for i in asked[1:] if sig.disputes[i]]


def _classify_lazily(classify: ClassifyFn, sentences: list[str],
                     ranked: list[int]) -> tuple[list[int], list[SentenceAnswer]]:
    """Classify the ranked sentences one at a time, most in-scope first, and stop at the first
    confident in-scope answer: each sentence costs one transformer call (unbatched, see
    ``nlp.classifier``), the dominant cost of a long letter, and the later sentences can only
    replace a confident answer by a slightly more confident one."""
    picks: list[int] = []
    answers: list[SentenceAnswer] = []
    for i in ranked:
        picks.append(i)
        answers.extend(SentenceAnswer(*a) for a in classify([sentences[i]]))
        if answers[-1][0] != "out_of_scope" and answers[-1][1] >= CONFIDENT_CATEGORY:
            break
    return picks, answers


# A request to the desk to dispute a card charge ("I would like to dispute this charge", "please
# dispute the $4,800.00 charge"): only the card issuer can do that, so the letter is ours whatever
# else it mentions (a worry about the credit report, a merchant threatening collections). Not a
# charge-off and not a late payment: those are credit-report disputes.
_ASK_DISPUTE_RX = re.compile(
    r"(?i)\b(?:please|kindly|i\s+(?:would\s+like|want|wish|need)\s+to|i['’]d\s+like\s+to|i\s+am\s+writing\s+to"
    r"|can\s+you|could\s+you|i\s+ask\s+you\s+to)\s+(?:\w+\s+){0,2}(?:dispute|reverse|charge\s?back)\s+"
    r"(?:(?!late\b)\w+\s+){0,4}?(?:\$[\d,.]+\s+)?(?:charges?|transactions?|purchases?|debits?|withdrawals?)\b(?!\s*-?\s*off)"
    r"|\b(?:can|could)\s+you\s+(?:please\s+)?dispute\s+(?:the\s+|this\s+|that\s+)?(?:\w+\s+)?[$€£]\d[\d,.]*(?![\d,.]*\s*(?:debt"
    r"|balance|loan|collection|late|charge[\s-]?off))"
    r"|\b(?:card|account)\s+(?:\w+\s+){0,2}(?:charge|transaction|purchase|debit|withdrawal)s?\b(?:[^.!?\n]|\.(?=\S)){0,100}\b(?:I|we)\s+"
    r"(?:did\s*n[o'’]?t|didn['’]t|never)\s+(?:make|authori[sz]e|recogni[sz]e)\b"
    r"|\b(?:quiero|quisiera|deseo)\s+(?:disputar|reclamar|impugnar)\s+(?:\w+\s+){0,3}(?:cargos?|cobros?|compras?)\b"
    r"|\bje\s+(?:conteste|souhaite\s+contester|voudrais\s+contester)\s+(?:\w+\s+){0,3}(?:d[ée]bits?|pr[ée]l[èe]vements?|paiements?|achats?)\b"
    r"|\bich\s+(?:widerspreche|m[öo]chte\s+(?:\w+\s+){0,3}reklamieren)\b"
    # a card transaction the author denies, then asks to dispute ("I did not make this purchase and I
    # want to dispute it"): the request names the charge by "it", the denial names what it is
    r"|\b(?:i|we)\s+(?:did\s*n[o'’]?t|didn['’]t|never)\s+(?:make|authori[sz]e|recogni[sz]e|order)\s+(?:this|that|the|these"
    r"|those)\s+(?:purchase|charge|transaction|payment|debit|withdrawal)s?\b[^.!?\n]{0,30}\b(?:i|we)\s+(?:would\s+like"
    r"|want|wish|need)\s+to\s+(?:dispute|reverse|charge\s?back)\s+(?:it|this|them|these)\b")


def is_ours(p_in: float, n_disp: int, n_other: int, threshold: float, asks: int = 0) -> bool:
    """The scope verdict from the scope model's P(in scope) and the letter's rule counts (explicit
    dispute phrases, other-product words, requests to dispute a card charge): a request to dispute a
    charge is ours; explicit dispute language can overrule a model that hesitates, never one that is
    sure; and a letter naming no other product needs less of the model. ``training.scope``
    measures this same function (on its CFPB split each rule moves F1 by under 0.01, while the
    outside e-mails it rescues are plain card disputes)."""
    return (p_in >= threshold or asks > 0
            or (n_disp >= 2 and n_disp > n_other and p_in >= threshold / 3)
            or (n_other == 0 and n_disp >= 1 and p_in >= threshold / 2))


def rule_counts(redacted: str) -> tuple[str | None, int, int, int]:
    """(non-complaint reason or None, explicit dispute phrases, other-product words, requests to
    dispute a charge) of a document, as ``triage_document`` counts them: what ``training.scope``
    needs to measure the served verdict."""
    _, sig, nc = _read(redacted)
    return (nc[0] if nc else None, sum(len(h) for h in sig.disputes), sum(len(h) for h in sig.others),
            len(_ASK_DISPUTE_RX.findall(redacted)))


def _read(redacted: str) -> tuple[list[str], Signals, tuple[str, list[tuple[int, str]]] | None]:
    """The document's sentences, their rule signals, and the non-complaint verdict."""
    spans = split_sentences(redacted)[:MAX_SENTENCES]
    sentences = [redacted[s:e] for s, e in spans] or [redacted]
    sig = Signals.of(sentences)
    return sentences, sig, noncomplaint(sentences, redacted, sig)


def triage_document(redacted: str, *, rule: RuleFn | None = None, classify: ClassifyFn | None = None,
                    amounts: Iterable[object] = (), repeat_contact: bool = False,
                    is_email: bool = True, language: str | None = None) -> DocumentTriage:
    """Scope, category, urgency and evidence of one redacted document (``language``: the caller's
    guess for it, when it has one; else it is guessed here, and only if the scope needs it)."""
    sentences, sig, nc = _read(redacted)
    model = get_scope_model()
    version = model.version if model is not None else "unavailable"
    if nc is not None:
        reason, marks = nc
        ev = [Evidence("scope", _clip(sentences[i]), i, sig) for i, sig in marks]
        score, reasons, urg_ev = _protected(sentences)  # not a complaint, yet "I will sue" still reaches a person
        return DocumentTriage(SCOPE_NONE, reason, 0.9, None, "out_of_scope", 0.9, "longtext:not_a_complaint",
                              score, reasons, ev + urg_ev, len(sentences), version)

    disputes = [(i, h) for i, h in enumerate(sig.disputes) if h]
    others = [(i, h) for i, h in enumerate(sig.others) if h]
    n_disp = sum(len(h) for _, h in disputes)
    n_other = sum(len(h) for _, h in others)
    if model is not None:
        p_doc, prod_doc = model.scores([redacted])
        p_in = float(p_doc[0])
        product = model.classes[1 + int(prod_doc[0].argmax())]
        p_sent, prod_sent = model.scores(sentences)
        threshold = model.threshold
    else:  # no artifact: rules alone
        p_in = 1.0 if n_disp >= n_other else 0.0
        product, p_sent, prod_sent, threshold = None, None, None, 0.5
    ours = is_ours(p_in, n_disp, n_other, threshold, len(_ASK_DISPUTE_RX.findall(redacted)))
    if model is not None and (n_disp or n_other) and (
            language or detect_language(redacted).language) not in ("en", "und"):
        # The scope model learnt English letters; a Spanish mortgage letter scored like a card one.
        # In other languages the rules decide whenever they found something (they know "hipoteca",
        # "cargo no reconocido", "prélèvement non autorisé").
        ours = n_disp >= n_other
    ev: list[Evidence] = []
    if not ours:
        named = {family_of_hit(w) for _, h in others for w in h} - {None}
        if len(named) == 1 and model is not None and named <= set(model.classes):
            product = named.pop()  # the letter names one product in so many words ("my personal loan")
        name = PRODUCT_NAMES.get(product or "", "another product")
        if p_sent is not None and product is not None:
            col = model.classes.index(product) - 1  # type: ignore[union-attr]
            order = sorted(range(len(sentences)), key=lambda i: (-(1 - p_sent[i]) * prod_sent[i][col], i))
        else:
            order = [i for i, _ in others]
        for i in order[:MAX_EVIDENCE]:
            ev.append(Evidence("scope", _clip(sentences[i]), i, ", ".join(sig.others[i][:2]) or f"about {name}"))
        conf = 1.0 - p_in
        score, reasons, urg_ev = _protected(sentences)  # another product, yet a legal threat still reaches a person
        return DocumentTriage(SCOPE_OTHER, f"about another product: {name}", round(conf, 4), product,
                              "out_of_scope", round(conf, 4), "longtext:other_product", score, reasons, ev + urg_ev,
                              len(sentences), version)

    # Ours: the sentences that carry the dispute, then the category.
    if p_sent is not None:
        ranked = sorted(range(len(sentences)), key=lambda i: (-(len(sig.disputes[i]) + p_sent[i]), i))
    else:
        ranked = [i for i, _ in disputes] or list(range(len(sentences)))
    for i in ranked[:MAX_EVIDENCE]:
        ev.append(Evidence("scope", _clip(sentences[i]), i, ", ".join(sig.disputes[i][:2]) or "reads most like a card or account matter"))
    category, cat_conf, source = "out_of_scope", 0.0, "longtext:none"
    answer: SentenceAnswer | None = None
    if rule is not None:
        for i in [i for i, _ in disputes] + [i for i in range(len(sentences)) if i not in dict(disputes)]:
            r = rule(" ".join(sentences[i].split()))  # a mail's hard line wraps are not sentence ends
            if r is not None and r[0] != "out_of_scope":
                category, cat_conf, source = r[0], 0.9, f"longtext:rule:{r[1]}"
                ev.append(Evidence("category", _clip(sentences[i]), i, r[1]))
                break
    if category == "out_of_scope" and classify is not None:
        candidates = _candidates(ranked[:MAX_EVIDENCE], sig)
        picks, answers = _classify_lazily(classify, sentences, candidates)
        best = max(range(len(picks)), key=lambda k: (answers[k][0] != "out_of_scope", answers[k][1]), default=None)
        if best is not None and answers[best][0] != "out_of_scope":
            category, cat_conf, source = answers[best][0], answers[best][1], "longtext:classifier"
            answer = answers[best]
            ev.append(Evidence("category", _clip(sentences[picks[best]]), picks[best], "intent classifier"))
    score, reasons, urg_ev = _urgency(sentences, amounts, repeat_contact, sig)
    reason = "card payment or account complaint"
    if others:  # a letter about two things: the agent hears of the other one too
        reason += f"; also mentions another product ({', '.join(sorted({w for _, h in others for w in h})[:3])})"
    return DocumentTriage(SCOPE_OURS, reason, round(p_in, 4), None, category,
                          round(cat_conf, 4), source, score, reasons, ev + urg_ev, len(sentences), version, answer)
