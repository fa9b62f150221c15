"""Score redaction on the red-team fixture (``tests/fixtures/redteam_pii.json``).

A secret is caught when none of its digit runs survives redaction (a described CVV/SSN may be
redacted with a wider span, never left partly visible); a must-keep fact is kept when it appears
verbatim in the redacted text. A card with its security code (``CARD_CVV``) is right when neither
the card number nor the code survives and the text carries the card token with the card's own last
four and a ``[CVV]`` of its own; a hyphenated name (``NAME``) is caught when no part of it survives.
Redaction must also be idempotent: the redacted text, redacted again, is unchanged (tickets and
notifications redact text that was redacted before).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from nlp.redact import redact

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "redteam_pii.json"


def secret_leaked(case: dict, redacted: str) -> bool:
    """The secret as written, or its digits as one standalone run, is still in the text. For the
    spoken classes, also any of its parts (a group of a card number read out, a name's first or last
    name, the SSN's area or serial) standing alone (a card token's "****1234" does not count); for a
    hyphenated name, any part of it (split at spaces and hyphens) still a word of the text."""
    if "secret_parts" in case:
        needles = {case["secret"], *case["secret_parts"]} - {""}
        flags = 0 if case["kind"] == "NAME" else re.I
        return any(re.search(rf"(?<![\w\-*.]){re.escape(n)}(?![\w\-]|[.,]\d)", redacted, flags) for n in needles)
    if case["kind"] == "NAME":
        parts = [p for p in re.split(r"[\s\-]+", case["secret"]) if p]
        return any(re.search(rf"(?<![\w'’]){re.escape(p)}(?![\w'’])", redacted) for p in parts)
    needles = {case["secret"], case["secret_digits"]}
    if case["kind"] == "CARD_CVV":
        needles |= {case["card_digits"], case["card_written"]}
    for needle in needles:
        if re.search(rf"(?<![\w\-]){re.escape(needle)}(?![\w\-])", redacted, re.I):
            return True
    return False


def evaluate(path: Path = FIXTURE) -> dict:
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    caught: dict[str, list[int]] = {}
    kept = total = idempotent = 0
    misses: list[str] = []
    dropped: list[str] = []
    unstable: list[str] = []
    for c in cases:
        out = redact(c["text"]).text
        if c["kind"] != "KEEP":  # "KEEP" cases hold no secret, only must-keep text
            # the hyphenated names and the spoken/signed names are scored apart
            tally = caught.setdefault("SPOKEN_NAME" if c["kind"] == "NAME" and "secret_parts" in c else c["kind"],
                                      [0, 0])
            tally[1] += 1
            if secret_leaked(c, out) or not all(token in out for token in c.get("expect", [])):
                misses.append(c["id"])
            else:
                tally[0] += 1
        if redact(out).text == out:
            idempotent += 1
        else:
            unstable.append(c["id"])
        for fact in c["must_keep"]:
            total += 1
            if fact in out:
                kept += 1
            else:
                dropped.append(f"{c['id']}:{fact}")

    def recall(kind: str) -> float:
        hit, n = caught.get(kind, (0, 0))
        return round(hit / max(1, n), 4)

    return {"cases": len(cases), "cvv_recall": recall("CVV"), "ssn_recall": recall("SSN"),
            "card_cvv_recall": recall("CARD_CVV"), "hyphen_name_recall": recall("NAME"),
            "card_cvv_cases": caught.get("CARD_CVV", [0, 0])[1], "name_cases": caught.get("NAME", [0, 0])[1],
            "idempotent_pct": round(100.0 * idempotent / max(1, len(cases)), 2),
            "recall": {k: recall(k) for k in caught},
            "cases_by_kind": {k: v[1] for k, v in caught.items()} | {"KEEP": sum(c["kind"] == "KEEP" for c in cases)},
            "must_keep_pct": round(100.0 * kept / max(1, total), 2), "must_keep_total": total,
            "misses": misses[:20], "dropped": dropped[:20], "not_idempotent": unstable[:20]}


if __name__ == "__main__":
    print(json.dumps(evaluate(), indent=2))
