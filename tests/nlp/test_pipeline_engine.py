"""The served PII / merchant pipeline without spaCy: tokenizer, config, components (issue 14)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nlp.components import FACTORIES, catalogue_phrases
from nlp.pipeline import CONFIG_PATH, build_pipeline, read_config
from nlp.tokenizer import RULES_PATH, Tokenizer, load_tokenizer

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return load_tokenizer()


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def texts(tokens) -> list[str]:
    return [t.text for t in tokens]


def test_tokens_carry_their_character_offsets(tok):
    """Given a message with punctuation, line breaks, a URL and double spaces
    When tokenized
    Then every token's text is exactly the input between its offsets, in order, none overlapping."""
    text = "Hi,  I'm Mr. O'Neil (see www.example.com/a-b).\nRegards,\n\nJo-Ann  "
    tokens = tok(text)
    assert all(text[t.start:t.end] == t.text for t in tokens)
    assert all(a.end <= b.start for a, b in zip(tokens, tokens[1:]))
    assert [t.i for t in tokens] == list(range(len(tokens)))


def test_tokenizer_splits_as_the_name_and_merchant_rules_expect(tok):
    """Given the constructions the trigger patterns are written against
    When tokenized
    Then contractions split, titles keep their period, line breaks are tokens, hyphens split names."""
    assert texts(tok("I'm Bob")) == ["I", "'m", "Bob"]
    assert texts(tok("Dear Mr. Smith")) == ["Dear", "Mr.", "Smith"]
    assert texts(tok("Regards,\nJohn")) == ["Regards", ",", "\n", "John"]
    assert texts(tok("Mary-Jane's")) == ["Mary", "-", "Jane", "'s"]
    assert texts(tok("name:John")) == ["name", ":", "John"]
    assert texts(tok("see www.shop.com/a-b.")) == ["see", "www.shop.com/a-b", "."]
    # A special case the suffix rule splits is merged back ("d." after "id" -> "i" "d").
    assert texts(tok("verify my id.")) == ["verify", "my", "i", "d."]
    assert texts(tok("a  b")) == ["a", " ", "b"]


def test_text_beyond_ascii_gets_the_full_unicode_rules(tok):
    """Given words with letters outside ASCII (the ASCII-only rule variant does not know them)
    When tokenized
    Then a period after a lower-case letter and a hyphen between letters still split."""
    assert texts(tok("Grüße.")) == ["Grüße", "."]
    assert texts(tok("Zoë Brontë-Øster")) == ["Zoë", "Brontë", "-", "Øster"]
    assert texts(tok("Grüße. Thanks.")) == ["Grüße", ".", "Thanks", "."]


def test_stored_merges_are_what_the_rules_give():
    """Given the rules file
    When the special cases that affix rules would split are computed from its rules
    Then they equal the stored list (a stale list would merge the wrong tokens)."""
    rules = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    fresh = Tokenizer({**rules, "merges": []}).compute_merges()
    assert sorted(map(tuple, fresh)) == sorted(map(tuple, rules["merges"])) and fresh


def test_malformed_tokenizer_rules_are_a_clear_error(tmp_path):
    """Given a rules file that lost a section, or a special case that does not spell its own text
    When loaded
    Then a ValueError names the problem instead of a tokenizer that silently splits differently."""
    rules = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    del rules["infixes"]
    with pytest.raises(ValueError, match="malformed"):
        Tokenizer(rules)
    rules = json.loads(RULES_PATH.read_text(encoding="utf-8"))
    rules["special_cases"]["can't"] = ["ca", "nt"]
    with pytest.raises(ValueError, match="does not split into itself"):
        Tokenizer(rules)


def test_pipeline_runs_the_components_of_the_config_in_order(nlp):
    """Given pipeline.cfg
    When the pipeline is built
    Then its components are the config's, in the config's order, each from a known factory."""
    config = read_config()
    assert nlp.pipe_names == config["pipeline"]["components"]
    assert all(config[name]["factory"] in FACTORIES for name in nlp.pipe_names)


def _config(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "pipeline.cfg"
    text = CONFIG_PATH.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


@pytest.mark.parametrize("old,new,message", [
    ('factory = "da_pii_names"', 'factory = "da_pii_nmaes"', "no known factory"),
    ("max_name_tokens = 3", "max_name_tokens = 3\nmax_tokens = 4", "unknown setting"),
    ('"address", "dob"]', '"address", "dob", "passport"]', "unknown PII detectors"),
    ('match_attr = "LOWER"', 'match_attr = "NORM"', "LOWER or ORTH"),
    ("context_chars = 40", "context_chars = forty", "not JSON"),
    ('"da_pii_names_extra", "merchant_ruler"', '"da_pii_names_extra", "merchant_rules"', "has no"),
    ('beyond_reference = ["da_pii_names_extra"]', 'beyond_reference = ["da_pii_name_extra"]', "beyond_reference"),
])
def test_config_mistakes_fail_the_build_with_a_clear_message(tmp_path, old, new, message):
    """Given a pipeline.cfg with a typo in a factory, a setting, a detector, an attribute or a value
    When the pipeline is built
    Then the build fails naming the mistake (a detector silently switched off would leak PII)."""
    with pytest.raises(ValueError, match=message):
        build_pipeline(_config(tmp_path, old, new))


def test_a_detector_switched_off_in_the_config_finds_nothing(tmp_path):
    """Given a config without the email detector
    When a text with an email address runs through it
    Then no EMAIL span is found, while the default config finds it (the config really drives it)."""
    text = "write to jane.doe@example.com please"
    assert [s.type for s in build_pipeline()(text).pii_spans] == ["EMAIL"]
    cfg = _config(tmp_path, '"account", "email", "phone"', '"account", "phone"')
    assert build_pipeline(cfg)(text).pii_spans == []


def test_redaction_asks_only_the_pii_components_and_entities_only_the_ruler(nlp):
    """Given a text with a name and a merchant
    When the pipeline runs for PII spans, then for entities
    Then each run fills only what it was asked for."""
    text = "Hello, my name is Dana Fox and Netflix charged me twice"
    pii = nlp(text, assigns={"pii_spans"})
    ents = nlp(text, assigns={"ents"})
    assert [(s.type, text[s.start:s.end]) for s in pii.pii_spans] == [("NAME", "Dana Fox")] and pii.ents == []
    assert [e.text for e in ents.ents] == ["Netflix"] and ents.pii_spans == []


def test_names_after_each_trigger(nlp):
    """Given the trigger phrases (my name is, I'm, Dear Mr., sign-offs on their own line, name:)
    When run through the pipeline
    Then the name alone is found, titles and triggers stay, and later mentions are found too."""
    def names(text: str) -> list[str]:
        return [text[s.start:s.end] for s in nlp(text, assigns={"pii_spans"}).pii_spans if s.type == "NAME"]

    assert names("I'm Carla Diaz and Carla Diaz never bought this") == ["Carla Diaz", "Carla Diaz"]
    assert names("Dear Mr. Okafor, thank you") == ["Okafor"]
    assert names("Kind regards,\nPriya Raman") == ["Priya Raman"]
    assert names("Cardholder: Lee Wong") == ["Lee Wong"]
    assert names("I am Very upset about this") == []
    assert names("Regards, Amazon") == []  # no line break after the sign-off
    assert names("This is Netflix") == []  # a merchant, not a person


def test_a_phrase_of_several_directory_entries_takes_the_first(nlp):
    """Given a merchant phrase that several directory entries share (and the built-in list too)
    When found in a text at several offsets
    Then every mention carries the same key: the first directory entry's, never an arbitrary one."""
    phrase_keys = [key for key, phrase in catalogue_phrases() if phrase.lower() == "google"]
    assert len(phrase_keys) > 1
    ents = nlp("Google charged me, then google again, and GOOGLE once more", assigns={"ents"}).ents
    assert [e.ent_id for e in ents] == [phrase_keys[0]] * 3


def test_redacting_never_imports_spacy():
    """Given a fresh interpreter
    When a message is redacted and its entities extracted
    Then spaCy (and its CLI stack) is never imported: it left the served path (issue 14)."""
    code = ("import sys; from nlp.redact import redact; from nlp.entities import extract_entities; "
            "r = redact('I am Jo Bloggs, card 4111 1111 1111 1111'); extract_entities(r.text); "
            "assert r.pii_counts == {'NAME': 1, 'CARD': 1}, r; "
            "print(sorted(m for m in ('spacy', 'thinc', 'typer', 'rich') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def test_redaction_does_not_tokenise_the_merchant_directory():
    """Given a freshly built pipeline
    When it only redacts
    Then the merchant ruler has not built its phrase table (a cold start that only redacts skips
    it); the first entity extraction builds it."""
    fresh = build_pipeline()
    ruler = dict(fresh.components)["merchant_ruler"]
    fresh("my name is Ann Lee", assigns={"pii_spans"})
    assert ruler._phrases is None
    assert [e.text for e in fresh("paid Netflix", assigns={"ents"}).ents] == ["Netflix"]
    assert ruler._phrases
