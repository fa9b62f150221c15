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
import sys
from pathlib import Path

from nlp.tokenizer import RULES_PATH


def export_rules() -> dict:
    import spacy

    nlp = spacy.blank("en")
    tok = nlp.tokenizer
    special = {}
    for orth, pieces in sorted(tok.rules.items()):
        texts = [p[65] for p in pieces]  # 65 == spacy.attrs.ORTH
        if "".join(texts) != orth:
            raise ValueError(f"special case {orth!r} does not split into itself: {texts}")
        special[orth] = texts
    return {
        "source": f"spaCy {spacy.__version__} English defaults (spacy.blank('en')), MIT licence, "
                  "(c) ExplosionAI GmbH; regenerate with `python -m training.tokenizer_rules`",
        "prefixes": [p for p in nlp.Defaults.prefixes if p.strip()],
        "suffixes": [p for p in nlp.Defaults.suffixes if p.strip()],
        "infixes": [p for p in nlp.Defaults.infixes if p.strip()],
        "url_match": tok.url_match.__self__.pattern,
        "special_cases": special,
    }


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
