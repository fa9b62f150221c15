"""Exports the English tokenisation rules that ``nlp.tokenizer`` runs, from spaCy (dev venv only).

Why a data file rather than spaCy at run time: `import spacy` costs ~90 MB RSS and most of a cold
start (its CLI stack comes with it), and the serving pipeline needs only the tokenisation rules:
prefix / suffix / infix patterns, the URL pattern and the special cases ("I'm" -> "I" "'m",
"Mr." stays one token). They are data (spaCy, MIT licence, (c) ExplosionAI GmbH), kept in
``nlp/tokenizer_rules.json`` so the served pipeline tokenises exactly as the spaCy reference
(``training/spacy_reference.py``) does; ``tests/nlp/test_spacy_parity.py`` proves the spans agree.

    python -m training.tokenizer_rules            # rewrites nlp/tokenizer_rules.json
    python -m training.tokenizer_rules --check    # exit 1 if the file differs from spaCy's rules
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from nlp.tokenizer import RULES_PATH, Tokenizer


# spaCy's big character classes, longest first, and the URL pattern's "any non-ASCII character"
# range: the rules name them so the tokenizer can compile an ASCII-only variant (nlp.tokenizer.RuleSet).
CLASS_NAMES = ("ALPHA_LOWER", "ALPHA_UPPER", "ICONS", "ALPHA", "NON_ASCII")
NON_ASCII = r"\u00a1-\uffff"


def ascii_members(content: str) -> str:
    """The ASCII characters of a class, escaped for use inside [...]; a space when there are none
    (chunks never contain whitespace, so a space never matches where the class is asked)."""
    members = [chr(c) for c in range(128) if re.fullmatch(f"[{content}]", chr(c))]
    return "".join(ch if ch.isalnum() else f"\\x{ord(ch):02x}" for ch in members) or " "


def template(pattern: str, classes: dict[str, str]) -> str:
    out = pattern
    for name in CLASS_NAMES:
        out = out.replace(classes[name], f"@@{name}@@")
    filled = out
    for name, content in classes.items():
        filled = filled.replace(f"@@{name}@@", content)
    if filled != pattern:
        raise ValueError(f"a character class does not round-trip in {pattern[:80]!r}")
    return out


def export_rules() -> dict:
    import spacy
    from spacy.lang import char_classes

    classes = {name: getattr(char_classes, name) for name in CLASS_NAMES[:-1]} | {"NON_ASCII": NON_ASCII}
    nlp = spacy.blank("en")
    tok = nlp.tokenizer
    special = {}
    for orth, pieces in sorted(tok.rules.items()):
        texts = [p[65] for p in pieces]  # 65 == spacy.attrs.ORTH
        if "".join(texts) != orth:
            raise ValueError(f"special case {orth!r} does not split into itself: {texts}")
        special[orth] = texts
    rules = {
        "source": f"spaCy {spacy.__version__} English defaults (spacy.blank('en')), MIT licence, "
                  "(c) ExplosionAI GmbH; regenerate with `python -m training.tokenizer_rules`",
        "prefixes": [p for p in nlp.Defaults.prefixes if p.strip()],
        "suffixes": [p for p in nlp.Defaults.suffixes if p.strip()],
        "infixes": [p for p in nlp.Defaults.infixes if p.strip()],
        "url_match": tok.url_match.__self__.pattern,
        "special_cases": special,
    }
    for key in ("prefixes", "suffixes", "infixes"):
        rules[key] = [template(p, classes) for p in rules[key]]
    rules["url_match"] = template(rules["url_match"], classes)
    rules["classes"] = classes
    rules["ascii_classes"] = {name: ascii_members(content) for name, content in classes.items()}
    rules["merges"] = Tokenizer({**rules, "merges": []}).compute_merges()
    return rules


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    args = ap.parse_args(argv)
    text = json.dumps(export_rules(), ensure_ascii=False, indent=0, sort_keys=True) + "\n"
    if args.check:
        same = RULES_PATH.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{RULES_PATH} differs from spaCy's rules")
        return 0 if same else 1
    Path(RULES_PATH).write_text(text, encoding="utf-8")
    print(f"wrote {RULES_PATH} ({len(text.encode()) / 1024:.1f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
