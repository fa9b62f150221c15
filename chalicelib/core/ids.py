"""Ids as we derive them: session keys (hashed, so a channel's raw id is never stored or logged)
and decision ids (one format, one derivation, for chat, email, fraud and triage alike).

Why: a Lex ``sessionId`` is chosen by the client; it can be a phone number, an email address or,
as found in issue 8, a card number. Every store keyed by session (step-up state, handoffs,
decisions) and every log line uses ``session_key``, so the raw id stops at the hook. The key uses
letters only, so it can never itself look like a card number to the guards.
"""
from __future__ import annotations

import hashlib
import re
import secrets

_KEY_RE = re.compile(r"^ses-[a-p]{32}$")
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def session_key(session_id: str) -> str:
    """A stable, one-way key for a channel session id (idempotent: a key maps to itself)."""
    if _KEY_RE.match(session_id or ""):
        return session_id
    digest = hashlib.sha256(b"dispute-assistant/session\x1f" + (session_id or "").encode("utf-8", "surrogatepass"))
    return "ses-" + digest.hexdigest()[:32].translate(_LETTERS)


def derive_decision_id(*parts: str) -> str:
    """The one id of "the decision about this thing": the same parts give the same id, so a retried
    turn, email or event finds the record written the first time instead of logging twice.

    The format (``dec-`` + 24 hex) is the one already stored in decision logs and golden outputs;
    it must not change, or retries after a deploy would stop finding their earlier records.
    """
    if not parts:
        raise ValueError("derive_decision_id needs at least one part")
    for part in parts:
        if not isinstance(part, str):
            raise TypeError(f"decision id parts must be text, got {type(part).__name__}")
    return "dec-" + hashlib.sha256("|".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:24]


def new_decision_id() -> str:
    """A fresh decision id for a decision that has no natural subject to derive one from."""
    return "dec-" + secrets.token_hex(12)
