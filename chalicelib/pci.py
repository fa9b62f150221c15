"""Card numbers (PANs): the one place that decides what counts as one.

PCI DSS 3.4: a PAN is never stored or logged unmasked (at most the last 4 here). Every layer that
must keep PANs out (redaction, log scrubbing, the decision-log guard, stored email records, Lex
session attributes) uses these functions, so they cannot disagree about what a card number is.
Standard library only: chalicelib must stay importable without the NLP stack.
"""
from __future__ import annotations

import re
from typing import NamedTuple


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check, used by every card network for the PAN's last digit."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0




class Span(NamedTuple):
    start: int
    end: int
    type: str
    last4: str = ""


# A PAN may be typed with any grouping: single or double spaces, dashes, dots, " - ", en dashes.
# A dot only counts without spaces ("4111.1111"), so a sentence ending in a date or an amount
# ("... on 2026-03-03. 4111 ...") does not glue onto the next number.
_SEP = r"(?:[ \t\u00a0\u2009]{1,3}|\.|[ \u00a0]{0,2}[-\u2010-\u2015][ \u00a0]{0,2})"
PAN_RUN_RE = re.compile(rf"(?<!\d)\d+(?:{_SEP}\d+)*")
_DIGITS_RE = re.compile(r"\d+")


_AMOUNT_HEAD_RE = re.compile(r"\d{1,3}(?:,\d{3})*\.\d{2}(?=[ \t\u00a0])")


def _amount_prefix_groups(text: str, start: int, run_text: str, groups: list[tuple[int, int]]) -> int:
    """How many leading digit groups of a run are a money amount ("$45.10 5100 ...").

    Only after a currency symbol: without one, "5.10 000 ..." may well be a dotted card number,
    and missing a card is worse than masking an amount. The caller still falls back to the whole
    run when the rest holds no card number."""
    before = text[max(0, start - 2):start].strip()
    m = _AMOUNT_HEAD_RE.match(run_text)
    if not m or not before.endswith(("$", "€", "£", "¥")):
        return 0
    return sum(1 for gs, _ in groups if gs < m.end())


def _windows(run_text: str, groups: list[tuple[int, int]], base: int, first: int) -> list[tuple[int, int, str]]:
    """Every group-aligned window of 13-19 digits that passes Luhn, starting at group ``first`` or later."""
    found: list[tuple[int, int, str]] = []
    for i in range(first, len(groups)):
        digits = ""
        for j in range(i, len(groups)):
            gs, ge = groups[j]
            digits += run_text[gs:ge]
            if len(digits) > 19:
                break
            # A sub-window starting with 0 is never a PAN (no card network uses MII 0).
            whole = i == first and j == len(groups) - 1
            if len(digits) >= 13 and (whole or digits[0] != "0") and luhn_valid(digits):
                found.append((base + groups[i][0], base + ge, digits))
    return found


def find_pans(text: str) -> list[Span]:
    """Luhn-valid 13-19 digit sequences, whatever the separators between digit groups.

    A run of digit groups is searched for every group-aligned window of 13-19 digits that passes
    Luhn; overlapping windows are merged so that no fragment of a card number survives next to the
    token. The last 4 come from the longest valid window (the one most likely to be the PAN).
    """
    spans: list[Span] = []
    for run in PAN_RUN_RE.finditer(text):
        run_text = run.group()
        if len(run_text) < 13:
            continue
        groups = [(m.start(), m.end()) for m in _DIGITS_RE.finditer(run_text)]
        total_digits = sum(e - s for s, e in groups)
        if total_digits < 13:
            continue
        base = run.start()
        skip = _amount_prefix_groups(text, run.start(), run_text, groups)
        candidates = (_windows(run_text, groups, base, skip) if skip else []) or _windows(run_text, groups, base, 0)
        if not candidates:
            continue
        candidates.sort()
        cluster_start, cluster_end, best = candidates[0]
        for start, end, digits in candidates[1:]:
            if start < cluster_end:
                cluster_end = max(cluster_end, end)
                if len(digits) > len(best):
                    best = digits
            else:
                spans.append(Span(cluster_start, cluster_end, "CARD", best[-4:]))
                cluster_start, cluster_end, best = start, end, digits
        spans.append(Span(cluster_start, cluster_end, "CARD", best[-4:]))
    return spans


def scrub_pans(text: str) -> tuple[str, int]:
    """Replace every Luhn-valid 13-19 digit run by a last-4 token; returns (text, count)."""
    spans = find_pans(text)
    if not spans:
        return text, 0
    out = []
    pos = 0
    for sp in spans:
        out.append(text[pos:sp.start])
        out.append(f"[CARD ****{sp.last4}]")
        pos = sp.end
    out.append(text[pos:])
    return "".join(out), len(spans)
