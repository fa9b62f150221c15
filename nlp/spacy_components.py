"""Registered spaCy factories of the triage pipeline (see ``pipeline.cfg``).

Why a blank pipeline with rules: the small English model is ~50x slower and labels card digits as
CARDINAL/DATE; every PII type we must catch is defined by a format, a checksum or a trigger phrase,
which rules do deterministically in microseconds. The components only write ``doc._.pii_spans``
(character offsets) so that the callers never have to re-scan the text.
"""
from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from nlp import patterns as P

CONFIG_PATH = Path(__file__).with_name("pipeline.cfg")

if not Doc.has_extension("pii_spans"):
    Doc.set_extension("pii_spans", default=None)

ALL_DETECTORS = ["pan", "iban", "cvv", "expiry", "ssn", "routing", "account", "email", "phone",
                 "address", "dob"]


class PiiPatterns:
    """Format + checksum + context detectors (PAN, IBAN, CVV, expiry, SSN, bank numbers, ...)."""

    def __init__(self, detectors: list[str], context_chars: int):
        unknown = set(detectors) - set(ALL_DETECTORS)
        if unknown:
            raise ValueError(f"unknown PII detectors in pipeline config: {sorted(unknown)}")
        self.detectors = set(detectors)
        self.window = context_chars

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text
        found: list[P.Span] = []
        cards = P.find_pans(text) if "pan" in self.detectors else []
        found += cards
        d, w = self.detectors, self.window
        if "iban" in d:
            found += P.detect_iban(text)
        if "cvv" in d:
            found += P.detect_cvv(text, cards)
        if "expiry" in d:
            found += P.detect_expiry(text, cards, w)
        if "ssn" in d:
            found += P.detect_ssn(text, w)
        if "routing" in d:
            found += P.detect_routing(text, w)
        if "account" in d:
            found += P.detect_account(text)
        if "email" in d:
            found += P.detect_email(text)
        if "phone" in d:
            found += P.detect_phone(text, w)
        if "address" in d:
            found += P.detect_address(text)
        if "dob" in d:
            found += P.detect_dob(text)
        doc._.pii_spans = (doc._.pii_spans or []) + found
        return doc


@Language.factory("da_pii_patterns", default_config={"detectors": ALL_DETECTORS, "context_chars": 40})
def make_pii_patterns(nlp: Language, name: str, detectors: list[str], context_chars: int) -> PiiPatterns:
    return PiiPatterns(detectors, context_chars)


# Capitalised words after a trigger that are not names ("I am Very upset", "Dear Customer").
NOT_NAMES = {
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
}
TRIGGER_WORDS = {"my", "name", "is", "'s", "’s", "i", "am", "'m", "’m", "this", "dear", "hello", "hi",
                 "thank", "you", "cardholder", "from", "regards", "sincerely", "cheers", "thanks",
                 "best", "yours", "respectfully", "faithfully", "truly", "wishes"}
_NAME_TOKEN = {"TEXT": {"REGEX": r"^[A-Z][A-Za-z'\u2019\-]*\.?$"}, "LOWER": {"NOT_IN": sorted(NOT_NAMES)}}
SIGN_OFFS = ["regards", "sincerely", "cheers", "thanks", "best", "yours", "respectfully",
             "faithfully", "truly", "wishes"]
HONORIFICS = ["mr", "mr.", "mrs", "mrs.", "ms", "ms.", "miss", "mx", "mx.", "dr", "dr.", "prof",
              "prof.", "sir", "madam"]


class NameMatcher:
    """Person names after trigger phrases; no statistical NER is available offline."""

    def __init__(self, vocab, max_name_tokens: int, merchants: set[str]):
        self.matcher = Matcher(vocab)
        name = dict(_NAME_TOKEN, OP=f"{{1,{max_name_tokens}}}")
        # Each key says how many trigger tokens precede the name.
        triggers = {
            "my_name_is": [{"LOWER": "my"}, {"LOWER": "name"}, {"LOWER": {"IN": ["is", "'s", "’s"]}}],
            "name_colon": [{"LOWER": {"IN": ["name", "cardholder", "from"]}}, {"ORTH": ":"}],
            "i_am": [{"ORTH": {"IN": ["I", "i"]}}, {"LOWER": {"IN": ["am", "'m", "’m"]}}],
            "this_is": [{"LOWER": "this"}, {"LOWER": "is"}],
            "dear": [{"LOWER": {"IN": ["dear", "hello", "hi"]}}, {"LOWER": {"IN": HONORIFICS}, "OP": "?"}],
            "honorific": [{"LOWER": {"IN": HONORIFICS[:-2]}}, {"ORTH": ".", "OP": "?"}],
            "sign_off": [{"LOWER": {"IN": SIGN_OFFS}}, {"ORTH": {"IN": [",", "!", "."]}, "OP": "?"},
                         {"IS_SPACE": True, "TEXT": {"REGEX": "\n"}}],
            "thank_you": [{"LOWER": "thank"}, {"LOWER": "you"}, {"ORTH": {"IN": [",", "!", "."]}, "OP": "?"},
                          {"IS_SPACE": True, "TEXT": {"REGEX": "\n"}}],
        }
        for key, trig in triggers.items():
            self.matcher.add(key, [trig + [name]], greedy="LONGEST")
        self.merchants = {m.lower() for m in merchants}

    def __call__(self, doc: Doc) -> Doc:
        found: list[P.Span] = []
        names: set[str] = set()
        for match_id, start, end in self.matcher(doc):
            # The honorific and the "Dear"/"my name is" trigger stay; only the name goes.
            k = self._first_name_token(doc, start, end)
            if k >= end:
                continue
            span = doc[k:end]
            if span.text.lower() in self.merchants:
                continue
            found.append(P.Span(span.start_char, span.end_char, "NAME"))
            names.add(span.text)
        for full in names:  # later mentions of the same person
            pos = doc.text.find(full)
            while pos != -1:
                found.append(P.Span(pos, pos + len(full), "NAME"))
                pos = doc.text.find(full, pos + len(full))
        doc._.pii_spans = (doc._.pii_spans or []) + found
        return doc

    @staticmethod
    def _first_name_token(doc: Doc, start: int, end: int) -> int:
        """Skips the trigger ("my name is", "Dear Mr.", "Regards,\n") so that only the name goes."""
        k = start
        while k < end and (doc[k].lower_ in TRIGGER_WORDS or doc[k].is_space or doc[k].is_punct
                           or doc[k].lower_ in HONORIFICS):
            k += 1
        return k


@Language.factory("da_pii_names", default_config={"max_name_tokens": 3})
def make_pii_names(nlp: Language, name: str, max_name_tokens: int) -> NameMatcher:
    return NameMatcher(nlp.vocab, max_name_tokens, set(P.KNOWN_MERCHANTS))


class PiiResolver:
    """Arbitrates overlapping detections by priority and keeps dispute facts out of redaction.

    Amounts, transaction dates and case/transaction ids are "protected": a phone, account, SSN,
    routing, address or name match that overlaps one is dropped. Card numbers, CVV, expiry and
    dates of birth are never dropped: leaking them costs more than over-redacting.
    """

    def __init__(self, protect_types: list[str]):
        self.protect_types = set(protect_types)
        self.rank = {t: i for i, t in enumerate(P.PRIORITY)}

    def __call__(self, doc: Doc) -> Doc:
        spans = doc._.pii_spans or []
        if not spans:
            doc._.pii_spans = []
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
        doc._.pii_spans = kept
        return doc


@Language.factory("da_pii_resolver",
                  default_config={"protect_types": ["PHONE", "ACCOUNT", "ROUTING", "SSN", "ADDRESS", "NAME"]})
def make_pii_resolver(nlp: Language, name: str, protect_types: list[str]) -> PiiResolver:
    return PiiResolver(protect_types)


def build_pipeline(config_path: Path = CONFIG_PATH) -> Language:
    """Builds the pipeline from its config; the merchant ruler gets the built-in merchant list."""
    config = spacy.util.load_config(config_path)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    ruler = nlp.get_pipe("merchant_ruler")
    patterns = [{"label": "MERCHANT", "pattern": m} for m in P.KNOWN_MERCHANTS]
    patterns += [{"label": "MERCHANT", "pattern": phrase, "id": key} for key, phrase in catalogue_phrases()]
    ruler.add_patterns(patterns)
    return nlp


# Aliases that are ordinary words in a complaint ("prime", "shell") would tag every sentence.
_AMBIGUOUS_ALIASES = {"prime", "shell", "target", "delta", "apple", "square", "cash", "store", "pay", "app"}


def catalogue_phrases() -> list[tuple[str, str]]:
    """(merchant key, phrase) from chalicelib.payments.merchants when deployed; the module is optional."""
    try:
        from chalicelib.payments.merchants import MERCHANTS
    except ImportError:
        return []
    out: list[tuple[str, str]] = []
    for m in MERCHANTS:
        for phrase in (m.name, *m.aliases):
            if len(phrase) >= 3 and phrase.lower() not in _AMBIGUOUS_ALIASES:
                out.append((m.key, phrase))
    return out
