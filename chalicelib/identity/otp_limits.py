"""How many one-time codes may be sent: per chat session, and per customer per hour across sessions.

Why: each code is an SMS we pay for and a message on a customer's phone. An adversarial run sent
50 codes to one customer from 50 sessions (the failure lockout counts wrong answers, not sends).
The counters live in the verifications table, whose ``update`` is atomic in both backends
(an IMMEDIATE transaction in SQLite, a conditional write in DynamoDB), so concurrent turns in
any number of containers cannot send more than the limit between them.

A counter is a ``VerificationState`` under a key no session can have ('#'), with ``failures``
holding the sends counted and ``otp_expires_at`` the end of the window the first send opened
(the record has no other use, so the names are the storage's, not the meaning's). A window is
fixed from its first send: at most ``limit`` sends per window.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.core.models import VerificationState
from chalicelib.identity.stepup_store import Change, aware

SESSION_PREFIX = "otp-sends#session#"
CUSTOMER_PREFIX = "otp-sends#customer#"
# Lex V2 keeps an idle session at most 24 hours: the per-session limit is over the session's life.
SESSION_WINDOW = timedelta(hours=24)
CUSTOMER_WINDOW = timedelta(hours=1)

# Stable codes for logs and metrics (never shown to the customer).
SESSION_LIMIT = "otp_send_limit_session"
CUSTOMER_LIMIT = "otp_send_limit_customer"


def _open(state: VerificationState | None, now: datetime) -> bool:
    end = aware(state.otp_expires_at) if state is not None else None
    return end is not None and now < end


def spent(state: VerificationState | None, limit: int, now: datetime) -> bool:
    """The window is open and its sends are used up."""
    return _open(state, now) and state.failures >= limit


def count_send(key: str, limit: int, window: timedelta, now: datetime) -> Change:
    """One more send in the current window, or nothing written when the window's sends are used up."""

    def change(state: VerificationState | None) -> VerificationState | None:
        if not _open(state, now):
            return VerificationState(session_id=key, failures=1, otp_expires_at=now + window, updated_at=now)
        if state.failures >= limit:
            return None
        state.failures += 1
        state.updated_at = now
        return state

    return change


class OtpSendLimits:
    """Checks and counts code sends against the two limits (settings ``otp_max_sends_per_session``
    and ``otp_max_sends_per_customer_per_hour``)."""

    def __init__(self, verifications, per_session: int, per_customer_hour: int) -> None:
        self._v = verifications
        self._per_session = int(per_session)
        self._per_customer = int(per_customer_hour)

    def refusal(self, session_id: str, customer_ids: list[str], now: datetime) -> str | None:
        """Read-only: which limit a send would hit now. Checked before the date of birth is, for
        every holder of the card, so a refusal never confirms a guessed birth date."""
        if spent(self._v.get(SESSION_PREFIX + session_id), self._per_session, now):
            return SESSION_LIMIT
        for cid in customer_ids:
            if spent(self._v.get(CUSTOMER_PREFIX + cid), self._per_customer, now):
                return CUSTOMER_LIMIT
        return None

    def take(self, session_id: str, customer_id: str, now: datetime) -> str | None:
        """Count one send against both limits atomically; the refusal code if either is used up.
        The session's send is counted first: a send refused for the customer's limit still uses
        one of the session's (conservative: never more sends than either limit)."""
        key = SESSION_PREFIX + session_id
        _, ok = self._v.update(key, count_send(key, self._per_session, SESSION_WINDOW, now))
        if not ok:
            return SESSION_LIMIT
        key = CUSTOMER_PREFIX + customer_id
        _, ok = self._v.update(key, count_send(key, self._per_customer, CUSTOMER_WINDOW, now))
        return None if ok else CUSTOMER_LIMIT
