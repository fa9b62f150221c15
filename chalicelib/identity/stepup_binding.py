"""Who a completed step-up belongs to: the channel's subject and the session, never the session id alone.

Why: the Lex session id is chosen by the client and travels in logs, URLs and transcripts. Before
this, anyone who sent another customer's session id inherited that session's step-up for its
whole freshness window. Now a step-up counts only

* for the customer the channel identifies (a verified token for that same customer), or
* for the anonymous session that did it: the caller presents no channel identity, the step-up
  was done without one, and the session carries the proof issued when the code was confirmed
  (a session attribute; only its keyed hash is stored, beside the session's state).

A step-up done under a channel identity is never inherited by an anonymous caller, and one done
anonymously is never inherited by a caller who only knows the session id.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from chalicelib.core.models import VerificationState
from chalicelib.identity.stepup_store import aware

# The session attribute that carries the proof back to us on every turn.
PROOF_ATTRIBUTE = "stepUpProof"
# Binding records share the verifications table under a key no session can have ('#' is outside
# Lex's sessionId alphabet and session keys are "ses-" + letters).
BINDING_PREFIX = "stepup-bind#"
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def new_proof() -> str:
    """128 random bits as letters only: no digit run a card-number guard could mistake for a PAN."""
    return secrets.token_hex(16).translate(_LETTERS)


def _digest(pepper: bytes, session_id: str, proof: str) -> str:
    msg = "\x1f".join(("step-up-proof", session_id, proof)).encode("utf-8")
    return hmac.new(pepper or b"step-up-proof", msg, hashlib.sha256).hexdigest()


def record(verifications, pepper: bytes, session_id: str, subject: str | None, proof: str, now: datetime) -> None:
    """Remember who did the step-up of ``session_id``: the channel subject (None: anonymous) and
    the proof's hash (held in the otp_hash field of the binding record)."""
    verifications.put(VerificationState(
        session_id=BINDING_PREFIX + session_id,
        candidate_customer_id=subject,
        otp_hash=_digest(pepper, session_id, proof),
        verified_at=now,
        updated_at=now,
    ))


def holds(verifications, pepper: bytes, session_id: str, verified_customer: str, subject: str | None,
          proof: str | None, verified_at: datetime | None) -> bool:
    """Whether the caller (channel ``subject``, session ``proof``) may use the step-up of
    ``verified_customer`` completed in this session at ``verified_at``."""
    if subject is not None:
        return subject == verified_customer
    binding = verifications.get(BINDING_PREFIX + session_id)
    if binding is None or binding.candidate_customer_id is not None or not binding.otp_hash:
        return False
    if aware(binding.verified_at) != aware(verified_at):
        return False  # the binding of an earlier step-up in this session
    if not isinstance(proof, str) or not proof or len(proof) > 64:
        return False
    return hmac.compare_digest(binding.otp_hash, _digest(pepper, session_id, proof))
