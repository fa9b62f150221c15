"""The log's last line of defence: no card number reaches a stored decision.

Why here and not only at the redactor: a decision is kept for years and exported to auditors; a
caller that forgot to redact must be refused, naming the field and never the value. What counts as
a card number is decided by ``chalicelib.core.pci`` alone, so the guard finds every grouping the
redactor finds (non-breaking spaces, en dashes, " - ").
"""
from __future__ import annotations

import re
from typing import Any

from chalicelib.core.pci import find_sensitive
from chalicelib.governance.decision_log.errors import PiiRejected

# Everything the finder looks for (a card number, a CVV, an SSN, an IBAN) has ASCII digits once the
# text is normalised, and ASCII text is its own normal form: ASCII without a digit needs no search.
# (A decision is mostly names, codes and sentences; searching each of its strings was a tenth of
# the card-event stream's time.) Non-ASCII text is always searched: "⑪" is no digit, yet reads "11".
_ASCII_DIGIT = re.compile(r"[0-9]")

# Fields the PAN guard skips: they are generated hex/base32 digests, not caller text.
_GUARD_SKIP = {"hash", "prev_hash", "customer_ref", "policy_digest"}


def contains_pan(text: str, standalone_only: bool = False) -> bool:
    """True when text holds anything the outbound guard would remove: a card number in any grouping,
    digits or separators (chalicelib.core.pci decides), a CVV, an SSN or an IBAN.

    ``standalone_only`` (used for identifier fields) ignores card-like digit runs glued to letters,
    as inside a hex digest ("dec-9f3a0412345678901234b"), which would otherwise trip the check about
    once in 400 ids.
    """
    if text.isascii() and _ASCII_DIGIT.search(text) is None:
        return False
    spans = find_sensitive(text)
    if not standalone_only:
        return bool(spans)
    return any(not ((sp.start > 0 and text[sp.start - 1].isalpha()) or (sp.end < len(text) and text[sp.end].isalpha()))
               for sp in spans)


# Identifier fields: generated or derived ids (hex/base32 digests), checked for standalone numbers only.
_ID_FIELDS = ("decision_id", "related_to", "subject")


def guard_no_pan(value: Any, path: str = "") -> None:
    """Raise PiiRejected naming the field (never the value) if any string looks like a card number."""
    if isinstance(value, str):
        if contains_pan(value, standalone_only=path.split(".")[0] in _ID_FIELDS):
            raise PiiRejected(f"refusing to log a card-number-like value in field {path or '<root>'}")
    elif isinstance(value, dict):
        for k, v in value.items():
            if not path and k in _GUARD_SKIP:
                continue
            if isinstance(k, str) and contains_pan(k):
                raise PiiRejected(f"refusing to log a card-number-like key under {path or '<root>'}")
            guard_no_pan(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            guard_no_pan(v, f"{path}[{i}]")

