"""The rule components of the PII / merchant pipeline, by factory name (see ``pipeline.cfg``).

Why rules: every PII type we must catch is defined by a format, a checksum or a trigger phrase,
which rules find deterministically in microseconds (the small statistical English model is ~50x
slower and labels card digits as CARDINAL/DATE). Each component reads the tokens and the text of a
``Doc`` and writes one thing: ``doc.pii_spans`` (character offsets, so callers never re-scan) or
``doc.ents`` (merchant phrases). They were spaCy components until the cold start showed that spaCy
cost more than everything else together; ``training/spacy_reference.py`` keeps that version as the
reference the parity test compares against.
"""
from __future__ import annotations

import re
from functools import partial
from typing import Callable, NamedTuple

from nlp import patterns as P
from nlp.card_words import detect_card_words
from nlp.signature_names import ExtraNames
from nlp.tokenizer import Token, Tokenizer

__all__ = ["Doc", "Ent", "DETECTORS", "PiiPatterns", "NameMatcher", "MerchantRuler", "PiiResolver", "FACTORIES",
           "ALL_DETECTORS", "NOT_NAMES", "HYPHENS", "catalogue_phrases", "hyphen_end"]


class Ent(NamedTuple):
    text: str
    start: int
    end: int
    label: str
    ent_id: str  # "" when the pattern had no id


class Doc:
    """The text, its tokens, and what the components found."""

    __slots__ = ("text", "tokens", "pii_spans", "ents")

    def __init__(self, text: str, tokens: list[Token]):
        self.text = text
        self.tokens = tokens
        self.pii_spans: list[P.Span] = []
        self.ents: list[Ent] = []


# Each detector: (text, card spans, context window) -> spans. Cards are found first: the CVV and
# expiry detectors look next to them.
DETECTORS: dict[str, Callable[[str, list[P.Span], int], list[P.Span]]] = {
    "pan": lambda text, cards, w: cards,
    "pan_words": lambda text, cards, w: detect_card_words(text),
    "iban": lambda text, cards, w: P.detect_iban(text),
    "cvv": lambda text, cards, w: P.detect_cvv(text, cards),
    "expiry": P.detect_expiry,
    "ssn": lambda text, cards, w: P.detect_ssn(text, w),
    "routing": lambda text, cards, w: P.detect_routing(text, w),
    "account": lambda text, cards, w: P.detect_account(text),
    "email": lambda text, cards, w: P.detect_email(text),
    "phone": lambda text, cards, w: P.detect_phone(text, w),
    "address": lambda text, cards, w: P.detect_address(text),
    "dob": lambda text, cards, w: P.detect_dob(text),
}
ALL_DETECTORS = list(DETECTORS)


class PiiPatterns:
    """Format + checksum + context detectors (PAN, IBAN, CVV, expiry, SSN, bank numbers, ...)."""

    assigns = "pii_spans"

    def __init__(self, tokenizer: Tokenizer | None, detectors: list[str] = ALL_DETECTORS, context_chars: int = 40):
        unknown = set(detectors) - set(ALL_DETECTORS)
        if unknown:
            raise ValueError(f"unknown PII detectors in pipeline config: {sorted(unknown)}")
        self.detectors = [name for name in ALL_DETECTORS if name in set(detectors)]
        self.window = int(context_chars)

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text
        cards = P.find_pans(text) if "pan" in self.detectors else []
        if cards and "cvv" in self.detectors:  # a code named as one is never a card's digits
            cards = P.split_card_cvv(text, cards, P.detect_cvv(text, cards))
        found: list[P.Span] = []
        for name in self.detectors:
            found += DETECTORS[name](text, cards, self.window)
        doc.pii_spans = doc.pii_spans + found
        return doc


# Capitalised words after a trigger that are not names ("I am Very upset", "Dear Customer").
NOT_NAMES = frozenset({
    "very", "so", "not", "really", "writing", "calling", "contacting", "trying", "still", "sure",
    "sorry", "happy", "unhappy", "angry", "upset", "disappointed", "frustrated", "concerned",
    "the", "a", "an", "customer", "customers", "sir", "madam", "sir/madam", "team", "support",
    "all", "valued", "member", "client", "account", "card", "holder", "cardholder", "bank", "your",
    "my", "this", "that", "here", "there", "i", "we", "you", "it", "is", "in", "on", "at", "for",
    "and", "or", "but", "hello", "hi", "dear", "thanks", "thank", "regards", "please", "going",
    "being", "also", "just", "now", "again", "today", "yesterday", "unable", "able", "owed",
    "charged", "billed", "told", "getting", "having", "waiting", "locked", "disputing", "done",
    "good", "fine", "well", "best", "kind", "warm", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "visa", "mastercard", "amex", "english", "american", "british",
    "ceo", "manager", "agent", "officer", "department", "service", "services", "ridiculous",
    "unacceptable", "outrageous", "urgent", "important", "fraud", "reaching", "following",
})
TRIGGER_WORDS = frozenset({"my", "name", "is", "'s", "’s", "i", "am", "'m", "’m", "this", "dear", "hello",
                           "hi", "thank", "you", "cardholder", "from", "regards", "sincerely", "cheers",
                           "thanks", "best", "yours", "respectfully", "faithfully", "truly", "wishes"})
SIGN_OFFS = frozenset({"regards", "sincerely", "cheers", "thanks", "best", "yours", "respectfully",
                       "faithfully", "truly", "wishes"})
HONORIFICS = ("mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "mx", "mx.", "dr", "dr.", "prof",
              "prof.", "sir", "madam")
# Latin letters with their accents (José, Müller, Łukasz): a name in any European spelling is a name.
_LETTER = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f"
NAME_RE = re.compile(rf"^[A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\u017f][{_LETTER}'\u2019\-\u2010\u2011]*\.?$")
# A hyphenated name is one name ("Mary-Jane", "Smith-Jones", "Jean–Luc"): the tokenizer splits it at
# the hyphen (as spaCy does), so the matcher joins the parts again, when nothing separates them.
HYPHENS = frozenset({"-", "\u2010", "\u2011", "\u2013"})
NAME_PART_RE = re.compile(rf"^[{_LETTER}][{_LETTER}'\u2019]*$")

# One token test per pattern step; a step is (test, optional).
Step = tuple[Callable[[Token], bool], bool]


def _lower_in(*words: str) -> Callable[[Token], bool]:
    allowed = frozenset(words)
    return lambda t: t.lower in allowed


def _text_in(*texts: str) -> Callable[[Token], bool]:
    allowed = frozenset(texts)
    return lambda t: t.text in allowed


def _line_break(t: Token) -> bool:
    return t.is_space and "\n" in t.text


# Each trigger, in tokens, before the 1..max_name_tokens capitalised words of the name.
TRIGGERS: dict[str, list[Step]] = {
    "my_name_is": [(_lower_in("my"), False), (_lower_in("name"), False), (_lower_in("is", "'s", "’s"), False)],
    "name_colon": [(_lower_in("name", "cardholder", "from"), False), (_text_in(":"), False)],
    "i_am": [(_text_in("I", "i"), False), (_lower_in("am", "'m", "’m"), False)],
    "this_is": [(_lower_in("this"), False), (_lower_in("is"), False)],
    "dear": [(_lower_in("dear", "hello", "hi"), False), (_lower_in(*HONORIFICS), True)],
    "honorific": [(_lower_in(*HONORIFICS[:-2]), False), (_text_in("."), True)],
    "sign_off": [(_lower_in(*SIGN_OFFS), False), (_text_in(",", "!", "."), True), (_line_break, False)],
    "thank_you": [(_lower_in("thank"), False), (_lower_in("you"), False), (_text_in(",", "!", "."), True),
                  (_line_break, False)],
}


def _is_name(t: Token) -> bool:
    return t.lower not in NOT_NAMES and NAME_RE.match(t.text) is not None


def hyphen_end(tokens: list[Token], k: int) -> int:
    """The end of the name word whose first token ends before ``k``: past every "-Part" glued to it."""
    while (k + 1 < len(tokens) and tokens[k].text in HYPHENS and tokens[k - 1].end == tokens[k].start
           and tokens[k].end == tokens[k + 1].start and NAME_PART_RE.match(tokens[k + 1].text)):
        k += 2
    return k


def _ends(tokens: list[Token], i: int, steps: list[Step]) -> set[int]:
    """Every token index where ``steps`` can end when started at token ``i``."""
    ends = {i}
    for test, optional in steps:
        nxt = {j + 1 for j in ends if j < len(tokens) and test(tokens[j])}
        ends = nxt | ends if optional else nxt
        if not ends:
            break
    return ends


def longest_first(pairs: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) token spans, longest first, then leftmost (Matcher's LONGEST)."""
    taken: set[int] = set()
    out = []
    for s, e in sorted(pairs, key=lambda p: (p[0] - p[1], p[0])):
        if taken.isdisjoint(range(s, e)):
            out.append((s, e))
            taken.update(range(s, e))
    return out


class NameMatcher:
    """Person names after trigger phrases; no statistical NER is available offline.

    ``max_name_tokens`` counts name words: a hyphenated name ("Mary-Jane") is one word and is taken
    whole. Here the served engine deliberately departs from the spaCy reference, whose token Matcher
    stops at the hyphen and left "[NAME]-Jane Watson" (``training.spacy_parity`` reports the
    difference apart from real disagreements)."""

    assigns = "pii_spans"

    def __init__(self, tokenizer: Tokenizer, max_name_tokens: int = 3):
        if int(max_name_tokens) < 1:
            raise ValueError("max_name_tokens must be at least 1")
        self.max_name = int(max_name_tokens)
        self.merchants = {m.lower() for m in P.KNOWN_MERCHANTS}

    def matches(self, tokens: list[Token]) -> list[tuple[int, int]]:
        """(start, end) token spans of trigger + name, per trigger the longest non-overlapping ones."""
        out: list[tuple[int, int]] = []
        for steps in TRIGGERS.values():
            pairs: set[tuple[int, int]] = set()
            for i, tok in enumerate(tokens):
                if not steps[0][0](tok):
                    continue
                for j in _ends(tokens, i, steps):
                    k, words = j, 0
                    while words < self.max_name and k < len(tokens) and _is_name(tokens[k]):
                        k, words = hyphen_end(tokens, k + 1), words + 1
                        pairs.add((i, k))
            out += longest_first(pairs)
        return out

    def __call__(self, doc: Doc) -> Doc:
        tokens, text = doc.tokens, doc.text
        found: list[P.Span] = []
        names: set[str] = set()
        for start, end in self.matches(tokens):
            # The honorific and the "Dear"/"my name is" trigger stay; only the name goes.
            k = start
            while k < end and (tokens[k].lower in TRIGGER_WORDS or tokens[k].is_space or tokens[k].is_punct
                               or tokens[k].lower in HONORIFICS):
                k += 1
            if k >= end:
                continue
            name = text[tokens[k].start:tokens[end - 1].end]
            if name.lower() in self.merchants:
                continue
            found.append(P.Span(tokens[k].start, tokens[end - 1].end, "NAME"))
            names.add(name)
            # "Mary-Jane Watson ... Mary called": the part before the first hyphen is searched for too.
            glued = next((h for h in range(k + 1, end - 1) if tokens[h].text in HYPHENS
                          and tokens[h - 1].end == tokens[h].start), None)
            if glued is not None:
                names.add(text[tokens[k].start:tokens[glued - 1].end])
        for full in names:  # later mentions of the same person
            pos = text.find(full)
            while pos != -1:
                found.append(P.Span(pos, pos + len(full), "NAME"))
                pos = text.find(full, pos + len(full))
        doc.pii_spans = doc.pii_spans + found
        return doc


class MerchantRuler:
    """Merchant phrases (the built-in list and the merchant directory) matched token by token."""

    assigns = "ents"

    def __init__(self, tokenizer: Tokenizer, match_attr: str = "LOWER"):
        if match_attr not in ("LOWER", "ORTH"):
            raise ValueError(f"merchant ruler match_attr must be LOWER or ORTH, not {match_attr!r}")
        self.lower = match_attr == "LOWER"
        self.tokenizer = tokenizer
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] | None = None

    @property
    def phrases(self) -> dict[str, list[tuple[tuple[str, ...], str]]]:
        """First token -> [(tokens, ent_id)]; a phrase with an id (the directory) is tried first.

        Built on first use: redaction never asks for merchants, so the paths that only redact
        (agent API, hand-offs) do not tokenise the merchant directory at a cold start."""
        if self._phrases is None:
            phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
            entries = [(p, key) for key, p in catalogue_phrases()] + [(p, "") for p in P.KNOWN_MERCHANTS]
            for phrase, ent_id in entries:
                words = tuple(self._attr(t) for t in self.tokenizer(phrase))
                if words and (words, ent_id) not in phrases.get(words[0], []):
                    phrases.setdefault(words[0], []).append((words, ent_id))
            self._phrases = phrases
        return self._phrases

    def _attr(self, t: Token) -> str:
        return t.lower if self.lower else t.text

    def __call__(self, doc: Doc) -> Doc:
        tokens = doc.tokens
        keys = [self._attr(t) for t in tokens]
        found: dict[tuple[int, int], str] = {}
        phrases = self.phrases
        for i, key in enumerate(keys):
            for words, ent_id in phrases.get(key, ()):
                end = i + len(words)
                if tuple(keys[i:end]) == words and (i, end) not in found:
                    found[(i, end)] = ent_id
        ents = [Ent(doc.text[tokens[s].start:tokens[e - 1].end], tokens[s].start, tokens[e - 1].end,
                    "MERCHANT", found[(s, e)]) for s, e in longest_first(set(found))]
        doc.ents = sorted(ents, key=lambda e: e.start)
        return doc


class PiiResolver:
    """Arbitrates overlapping detections by priority and keeps dispute facts out of redaction.

    Amounts, transaction dates and case/transaction ids are "protected": a phone, account, SSN,
    routing, address or name match that overlaps one is dropped. Card numbers, CVV, expiry and
    dates of birth are never dropped: leaking them costs more than over-redacting.
    """

    assigns = "pii_spans"

    def __init__(self, tokenizer: Tokenizer | None, protect_types: list[str] = ()):  # type: ignore[assignment]
        unknown = set(protect_types) - set(P.PRIORITY)
        if unknown:
            raise ValueError(f"unknown PII types to protect in pipeline config: {sorted(unknown)}")
        self.protect_types = set(protect_types)
        self.rank = {t: i for i, t in enumerate(P.PRIORITY)}

    def __call__(self, doc: Doc) -> Doc:
        spans = doc.pii_spans
        if not spans:
            return doc
        protected = P.protected_spans(doc.text) if any(s.type in self.protect_types for s in spans) else []
        spans = [s for s in spans if s.type not in self.protect_types
                 or not any(ps < s.end and s.start < pe for ps, pe in protected)]
        spans.sort(key=lambda s: (self.rank[s.type], s.start, -(s.end - s.start)))
        kept: list[P.Span] = []
        for s in spans:
            if all(s.end <= k.start or k.end <= s.start for k in kept):
                kept.append(s)
        kept.sort(key=lambda s: s.start)
        doc.pii_spans = kept
        return doc


FACTORIES: dict[str, Callable[..., Callable[[Doc], Doc]]] = {
    "da_pii_patterns": PiiPatterns,
    "da_pii_names": NameMatcher,
    "da_pii_names_extra": partial(ExtraNames, not_names=NOT_NAMES),
    "da_merchant_ruler": MerchantRuler,
    "da_pii_resolver": PiiResolver,
}

# Aliases that are ordinary words in a complaint ("prime", "shell") would tag every sentence.
_AMBIGUOUS_ALIASES = {"prime", "shell", "target", "delta", "apple", "square", "cash", "store", "pay", "app"}


def catalogue_phrases() -> list[tuple[str, str]]:
    """(merchant key, phrase) from chalicelib.payments.merchants, the merchant directory."""
    from chalicelib.payments.merchants import MERCHANTS

    out: list[tuple[str, str]] = []
    for m in MERCHANTS:
        for phrase in (m.name, *m.aliases):
            if len(phrase) >= 3 and phrase.lower() not in _AMBIGUOUS_ALIASES:
                out.append((m.key, phrase))
    return out
