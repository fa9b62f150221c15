"""Score redaction on the red-team fixture (``tests/fixtures/redteam_pii.json``).

A secret is caught when none of its digit runs survives redaction (a described CVV/SSN may be
redacted with a wider span, never left partly visible); a must-keep fact is kept when it appears
verbatim in the redacted text.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from nlp.redact import redact

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "redteam_pii.json"


def secret_leaked(case: dict, redacted: str) -> bool:
    """The secret as written, or its digits as one standalone run, is still in the text; for the
    spoken classes, also any of its parts (a group of a card number read out, a name's first or
    last name, the SSN's area or serial) standing alone (a card token's "****1234" does not count)."""
    if "secret_parts" in case:
        needles = {case["secret"], *case["secret_parts"]} - {""}
        flags = 0 if case["kind"] == "NAME" else re.I
        return any(re.search(rf"(?<![\w\-*.]){re.escape(n)}(?![\w\-]|[.,]\d)", redacted, flags) for n in needles)
    for needle in {case["secret"], case["secret_digits"]}:
        if re.search(rf"(?<![\w\-]){re.escape(needle)}(?![\w\-])", redacted, re.I):
            return True
    return False


def evaluate(path: Path = FIXTURE) -> dict:
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    caught = {"CVV": [0, 0], "SSN": [0, 0], "CARD_WORDS": [0, 0], "PHONE": [0, 0], "NAME": [0, 0]}
    kept = total = 0
    misses: list[str] = []
    dropped: list[str] = []
    for c in cases:
        out = redact(c["text"]).text
        if c["kind"] in caught:  # "KEEP" cases hold no secret, only must-keep text
            caught[c["kind"]][1] += 1
            if secret_leaked(c, out):
                misses.append(c["id"])
            else:
                caught[c["kind"]][0] += 1
        for fact in c["must_keep"]:
            total += 1
            if fact in out:
                kept += 1
            else:
                dropped.append(f"{c['id']}:{fact}")
    return {"cases": len(cases), "cvv_recall": round(caught["CVV"][0] / max(1, caught["CVV"][1]), 4),
            "ssn_recall": round(caught["SSN"][0] / max(1, caught["SSN"][1]), 4),
            "recall": {k: round(v[0] / max(1, v[1]), 4) for k, v in caught.items()},
            "cases_by_kind": {k: v[1] for k, v in caught.items()} | {"KEEP": sum(c["kind"] == "KEEP" for c in cases)},
            "must_keep_pct": round(100.0 * kept / max(1, total), 2), "must_keep_total": total,
            "misses": misses[:20], "dropped": dropped[:20]}


if __name__ == "__main__":
    print(json.dumps(evaluate(), indent=2))
