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
    """The secret as written, or its digits as one standalone run, is still in the text."""
    for needle in {case["secret"], case["secret_digits"]}:
        if re.search(rf"(?<![\w\-]){re.escape(needle)}(?![\w\-])", redacted, re.I):
            return True
    return False


def evaluate(path: Path = FIXTURE) -> dict:
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    caught = {"CVV": [0, 0], "SSN": [0, 0]}
    kept = total = 0
    misses: list[str] = []
    dropped: list[str] = []
    for c in cases:
        out = redact(c["text"]).text
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
            "must_keep_pct": round(100.0 * kept / max(1, total), 2), "must_keep_total": total,
            "misses": misses[:20], "dropped": dropped[:20]}


if __name__ == "__main__":
    print(json.dumps(evaluate(), indent=2))
