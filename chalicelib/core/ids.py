"""Session ids as we keep them: hashed, so a channel's raw id is never stored or logged.

Why: a Lex ``sessionId`` is chosen by the client; it can be a phone number, an email address or,
as found in issue 8, a card number. Every store keyed by session (step-up state, handoffs,
decisions) and every log line uses ``session_key``, so the raw id stops at the hook. The key uses
letters only, so it can never itself look like a card number to the guards.
"""
from __future__ import annotations

import hashlib
import re

_KEY_RE = re.compile(r"^ses-[a-p]{32}$")
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def session_key(session_id: str) -> str:
    """A stable, one-way key for a channel session id (idempotent: a key maps to itself)."""
    if _KEY_RE.match(session_id or ""):
        return session_id
    digest = hashlib.sha256(b"dispute-assistant/session\x1f" + (session_id or "").encode("utf-8", "surrogatepass"))
    return "ses-" + digest.hexdigest()[:32].translate(_LETTERS)
