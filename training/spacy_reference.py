"""The spaCy version of the PII / merchant pipeline: the reference the served engine is held to.

Why it is kept: until issue 14 the served pipeline was this one (``spacy.blank("en")``, a token
``Matcher`` for names, an ``EntityRuler`` of merchants, registered components). spaCy left the
served path because `import spacy` alone cost ~90 MB RSS and most of a cold start; the served
engine (``nlp.pipeline``: ``nlp.tokenizer`` + ``nlp.components``) must still find the same spans,
which ``tests/nlp/test_spacy_parity.py`` checks on real texts by running both. Dev venv only
(spaCy is in requirements-dev.txt, not in the Lambda package); built from the same
``nlp/pipeline.cfg`` and the same word lists.
"""
from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from nlp import components, patterns as P
from nlp.components import HONORIFICS, NAME_RE, NOT_NAMES, SIGN_OFFS, TRIGGER_WORDS, catalogue_phrases
from nlp.pipeline import CONFIG_PATH, read_config

if not Doc.has_extension("pii_spans"):
    Doc.set_extension("pii_spans", default=None)


class TextComponent:
    """A served component that reads only the text (pattern detectors, resolver), run on a spaCy Doc:
    those do not depend on the engine, so the reference shares them and compares the rest."""

    def __init__(self, served):
        self.served = served

    def __call__(self, doc: Doc) -> Doc:
        mirror = components.Doc(doc.text, [])
        mirror.pii_spans = list(doc._.pii_spans or [])
        doc._.pii_spans = self.served(mirror).pii_spans
        return doc


@Language.factory("da_pii_patterns", default_config={"detectors": components.ALL_DETECTORS, "context_chars": 40})
def make_pii_patterns(nlp: Language, name: str, detectors: list[str], context_chars: int) -> TextComponent:
    return TextComponent(components.PiiPatterns(None, detectors, context_chars))


# The word lists are data shared with the served matcher: the engines must differ only in engine.
_NAME_TOKEN = {"TEXT": {"REGEX": NAME_RE.pattern}, "LOWER": {"NOT_IN": sorted(NOT_NAMES)}}


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
            "dear": [{"LOWER": {"IN": ["dear", "hello", "hi"]}}, {"LOWER": {"IN": list(HONORIFICS)}, "OP": "?"}],
            "honorific": [{"LOWER": {"IN": list(HONORIFICS[:-2])}}, {"ORTH": ".", "OP": "?"}],
            "sign_off": [{"LOWER": {"IN": sorted(SIGN_OFFS)}}, {"ORTH": {"IN": [",", "!", "."]}, "OP": "?"},
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


@Language.factory("da_pii_resolver",
                  default_config={"protect_types": ["PHONE", "ACCOUNT", "ROUTING", "SSN", "ADDRESS", "NAME"]})
def make_pii_resolver(nlp: Language, name: str, protect_types: list[str]) -> TextComponent:
    return TextComponent(components.PiiResolver(None, protect_types))


def build_reference(config_path: Path = CONFIG_PATH) -> Language:
    """The spaCy pipeline for ``pipeline.cfg``: same components, same order, same settings, less the
    components listed as ``beyond_reference`` (rules the reference never had, on purpose)."""
    config = read_config(config_path)
    nlp = spacy.blank("en")
    for name in config["pipeline"]["components"]:
        if name in config["pipeline"]["beyond_reference"]:
            continue  # deliberate additions: spacy_parity reports them apart
        settings = dict(config[name])
        factory = settings.pop("factory")
        if factory == "da_merchant_ruler":
            ruler = nlp.add_pipe("entity_ruler", name=name,
                                 config={"phrase_matcher_attr": settings["match_attr"], "overwrite_ents": True})
        else:
            nlp.add_pipe(factory, name=name, config=settings)
    patterns = [{"label": "MERCHANT", "pattern": m} for m in P.KNOWN_MERCHANTS]
    patterns += [{"label": "MERCHANT", "pattern": phrase, "id": key} for key, phrase in catalogue_phrases()]
    ruler.add_patterns(patterns)
    return nlp


def reference_pii_spans(nlp: Language, text: str) -> list[P.Span]:
    ruler = [n for n, p in nlp.pipeline if p.__class__.__name__ == "EntityRuler"]
    return list(nlp(text, disable=ruler)._.pii_spans or [])


def reference_ents(nlp: Language, text: str) -> list[tuple[str, int, int, str]]:
    doc = nlp(text, disable=[n for n, p in nlp.pipeline if p.__class__.__name__ != "EntityRuler"])
    return [(e.text, e.start_char, e.end_char, e.ent_id_) for e in doc.ents if e.label_ == "MERCHANT"]
