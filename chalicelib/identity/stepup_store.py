"""The step-up state changes, each applied atomically through ``VerificationRepo.update``.

Why this exists: step-up used to read the session's state, decide, and write the whole state
back. Between the read and the write any number of other turns (threads in one Lambda, other
containers, a retried Lex call) could do the same, so 20 concurrent wrong codes were all compared
against a limit of 3, and a failure written from a stale read could erase a success that landed
meanwhile. Here every change is a pure function of the *current* stored state, applied by the
store under a transaction (SQLite) or a conditional write (DynamoDB), and re-applied if it lost
a race. The rules that keep the limit:

* an attempt is **claimed before** the code is compared: ``claim`` counts the failure up front and
  only if the challenge is still the one the caller read, not verified, not locked and under the
  limit. A caller without a claim compares nothing; so no more than the limit of codes is ever
  compared per challenge, however many callers race;
* ``verify`` writes the success only while the challenge it was checked against is still pending;
* ``lock_if_spent`` (after a wrong code) locks only an unverified session still on that
  challenge, so a failure can never overwrite a success, and a success never undoes a lock.

The functions here return ``change`` callables (state -> new state or None for "write nothing").
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

from chalicelib.core.models import VerificationState

Change = Callable[[VerificationState | None], VerificationState | None]


def aware(dt: datetime | None) -> datetime | None:
    """Stores may hand back naive datetimes; every timestamp here is UTC."""
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt


def locked(state: VerificationState | None, now: datetime) -> bool:
    until = aware(state.locked_until) if state is not None else None
    return until is not None and now < until


def clean_slate(state: VerificationState, now: datetime) -> VerificationState:
    """A lock that has run its course leaves no failures behind (not one more try, then relock)."""
    until = aware(state.locked_until)
    if until is not None and now >= until:
        state.locked_until = None
        state.failures = 0
        state.otp_hash = None
        state.otp_expires_at = None
    return state


def pending(state: VerificationState | None, otp_hash: str, now: datetime) -> bool:
    """The challenge ``otp_hash`` is still open on this session: not answered, replaced or locked."""
    return (
        state is not None
        and state.otp_hash == otp_hash
        and not state.verified_customer_id
        and not locked(state, now)
    )


def claim(otp_hash: str, limit: int, now: datetime) -> Change:
    """Take one of the challenge's attempts (counted as a failure until ``verify`` clears it)."""

    def change(state: VerificationState | None) -> VerificationState | None:
        if not pending(state, otp_hash, now) or state.failures >= limit:
            return None
        state.failures += 1
        state.updated_at = now
        return state

    return change


def verify(otp_hash: str, customer_id: str, now: datetime) -> Change:
    def change(state: VerificationState | None) -> VerificationState | None:
        if not pending(state, otp_hash, now):
            return None
        state.verified_customer_id = customer_id
        state.verified_at = now
        state.otp_hash = None
        state.otp_expires_at = None
        state.failures = 0
        state.updated_at = now
        return state

    return change


def lock_if_spent(otp_hash: str, limit: int, now: datetime, lockout: timedelta,
                  customer_locked_until: datetime | None) -> Change:
    """After a wrong code: lock the session once its attempts are used up (or its customer is locked)."""

    def change(state: VerificationState | None) -> VerificationState | None:
        if not pending(state, otp_hash, now):
            return None
        if state.failures < limit and customer_locked_until is None:
            return None
        state.locked_until = customer_locked_until or (now + lockout)
        state.otp_hash = None
        state.otp_expires_at = None
        state.updated_at = now
        return state

    return change


def expire(otp_hash: str, now: datetime) -> Change:
    def change(state: VerificationState | None) -> VerificationState | None:
        if state is None or state.otp_hash != otp_hash:
            return None
        state.otp_hash = None
        state.otp_expires_at = None
        state.updated_at = now
        return state

    return change


def challenge(session_id: str, customer_id: str, otp_hash: str | None, expires_at: datetime | None,
              now: datetime) -> Change:
    """A new code for this session (or, with ``otp_hash`` None, none: delivery failed). Keeps the
    failures counted so far: starting over must not buy more attempts. Refused while locked."""

    def change(state: VerificationState | None) -> VerificationState | None:
        state = clean_slate(state or VerificationState(session_id=session_id, updated_at=now), now)
        if locked(state, now):
            return None
        state.candidate_customer_id = customer_id
        state.otp_hash = otp_hash
        state.otp_expires_at = expires_at if otp_hash else None
        state.verified_customer_id = None
        state.verified_at = None
        state.updated_at = now
        return state

    return change


def mismatch(session_id: str, limit: int, now: datetime, lockout: timedelta,
             customer_locked_until: datetime | None) -> Change:
    """A wrong card / date of birth: one more failure, and the lock when the limit is reached."""

    def change(state: VerificationState | None) -> VerificationState | None:
        state = clean_slate(state or VerificationState(session_id=session_id, updated_at=now), now)
        if locked(state, now):
            return None
        state.failures += 1
        state.updated_at = now
        if state.failures >= limit or customer_locked_until is not None:
            state.locked_until = customer_locked_until or (now + lockout)
            state.otp_hash = None
            state.otp_expires_at = None
        return state

    return change
