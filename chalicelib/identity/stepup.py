"""Step-up verification in the chat: card last 4 + date of birth, then a one-time code out of band.

Three failures lock the session *and* the customer (across sessions) and escalate to a human;
each state change is applied atomically through :mod:`chalicelib.identity.stepup_store`.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, Callable

from chalicelib.core.clock import outbound_time
from chalicelib.core.models import Customer, VerificationState, utcnow
from chalicelib.identity import stepup_binding, stepup_store
from chalicelib.identity.errors import OtpDeliveryError
from chalicelib.identity.otp_limits import OtpSendLimits
from chalicelib.identity.otp_senders import OtpSender, mask_phone
from chalicelib.identity.stepup_store import aware

logger = logging.getLogger(__name__)


class StepUpStatus(str, Enum):
    code_sent = "code_sent"
    mismatch = "mismatch"
    verified = "verified"
    wrong_code = "wrong_code"
    expired = "expired"
    no_challenge = "no_challenge"
    locked = "locked"
    delivery_failed = "delivery_failed"
    send_limited = "send_limited"  # too many codes sent to this session or customer: a person takes over


@dataclass(frozen=True)
class StepUpResult:
    status: StepUpStatus
    masked_destination: str | None = None
    verified_customer_id: str | None = None
    attempts_left: int | None = None
    locked_until: datetime | None = None
    # True when the dialog layer must hand over to a human (lockout, undeliverable code).
    escalate: bool = False
    # On ``verified``: the secret the session must carry (stepup_binding.PROOF_ATTRIBUTE) for an
    # anonymous caller's later turns to count as this step-up.
    proof: str | None = None

    @property
    def destination(self) -> str | None:
        """Alias of ``masked_destination`` (the name the dialog layer reads)."""
        return self.masked_destination

    @property
    def customer_id(self) -> str | None:
        """Alias of ``verified_customer_id``: set only when the status is ``verified``."""
        return self.verified_customer_id


# Records for the per-customer lock live in the verifications table under a key no Lex session
# can have ('#' is outside Lex V2's sessionId alphabet [0-9a-zA-Z._:-]).
_CUSTOMER_LOCK_PREFIX = "customer-lock#"
_OTP_HASH_VERSION = "s1"


class StepUpService:
    """Card last 4 + date of birth, then a one-time code out of band.

    Failures count per session *and* per candidate customer, so opening a new chat does not buy
    an attacker three more guesses at someone's date of birth or code. The failure window and
    the lock both last ``settings.lockout_s``.

    A date-of-birth mismatch counts against every customer holding a card with those last 4: the
    attacker's target is one of them and we cannot tell which. That lets someone lock those
    customers out of *chat* step-up (not out of token channels) for ``lockout_s``; it is the
    price of not giving out unlimited date-of-birth guesses, and each lock escalates to a human.
    """

    def __init__(
        self,
        store: Any,
        settings: Any,
        otp_sender: OtpSender,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[int], int] = secrets.randbelow,
        *,
        pepper: bytes = b"",
        verified_ttl_s: int | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._sender = otp_sender
        self._clock = clock
        self._rng = rng
        self._pepper = pepper
        self._max_failures = int(settings.max_verification_failures)
        self._lockout = timedelta(seconds=int(settings.lockout_s))
        self._otp_ttl = timedelta(seconds=int(settings.otp_ttl_s))
        self._send_limits = OtpSendLimits(store.verifications, settings.otp_max_sends_per_session,
                                          settings.otp_max_sends_per_customer_per_hour)
        # A chat step-up counts for as long as a channel's identity token would.
        self._verified_ttl = timedelta(
            seconds=int(verified_ttl_s if verified_ttl_s is not None else settings.identity_token_ttl_s)
        )

    # -- public API ------------------------------------------------------------------------
    def status(self, session_id: str) -> VerificationState | None:
        self._check_session_id(session_id)
        return self._store.verifications.get(session_id)

    def verified_customer(self, session_id: str, now: datetime | None = None) -> str | None:
        """The customer this session proved to be, if the proof is still fresh (``verified_ttl``)."""
        state = self.status(session_id)
        if state is None or not state.verified_customer_id:
            return None
        now = now or self._clock()
        # A later customer-level lock (someone else guessing from another chat) does not undo a
        # verification this session already completed; a lock on this session does.
        if stepup_store.locked(state, now):
            return None
        verified_at = aware(state.verified_at or state.updated_at)
        if verified_at is None or now - verified_at > self._verified_ttl:
            return None
        return state.verified_customer_id

    def verified_for(self, session_id: str, subject: str | None, proof: str | None,
                     now: datetime | None = None) -> str | None:
        """The session's fresh step-up, if it belongs to this caller: the customer the channel
        identifies (``subject``) or, anonymously, the session holding its ``proof``
        (:mod:`chalicelib.identity.stepup_binding`). Knowing the session id is not enough."""
        now = now or self._clock()
        cid = self.verified_customer(session_id, now)
        if cid is None:
            return None
        state = self._store.verifications.get(session_id)
        verified_at = state.verified_at if state is not None else None
        ok = stepup_binding.holds(self._store.verifications, self._pepper, session_id, cid, subject, proof, verified_at)
        return cid if ok else None

    def fresh_verification(self, session_id: str, customer_id: str | None, now: datetime | None = None) -> bool:
        """The one check for every capability that needs the *person* proven recently (releasing a
        hold, ...): a login token proves the channel, and a step-up from hours ago proves nothing
        about who holds the phone now. Same TTL as :meth:`verified_customer`, by construction."""
        return bool(customer_id) and self.verified_customer(session_id, now) == customer_id

    def is_locked(self, session_id: str) -> bool:
        state = self.status(session_id)
        now = self._clock()
        if state is None:
            return False
        if stepup_store.locked(state, now):
            return True
        return bool(state.candidate_customer_id) and self._customer_locked(state.candidate_customer_id, now)

    def begin(self, session_id: str, last4: str, dob: date) -> StepUpResult:
        self._check_session_id(session_id)
        now = self._clock()
        state = self._store.verifications.get(session_id)
        if stepup_store.locked(state, now):
            return self._locked_result(state.locked_until)

        last4 = (last4 or "").strip()
        cards = self._store.cards.find_by_last4(last4) if re.fullmatch(r"\d{4}", last4) else []
        holder_ids = sorted({c.customer_id for c in cards})
        # Checked before the date of birth, so "locked" never confirms a guessed birth date.
        for cid in holder_ids:
            until = self._customer_locked(cid, now)
            if until:
                return self._locked_result(until)

        refused = self._send_limits.refusal(session_id, holder_ids, now)
        if refused:
            return self._send_refused(session_id, refused)

        match: Customer | None = None
        for cid in holder_ids:
            customer = self._store.customers.get(cid)
            if customer is not None and customer.date_of_birth == dob:
                match = customer
                break

        verifications = self._store.verifications
        if match is None:
            for cid in holder_ids:
                verifications.record_customer_failure(cid, now)
            customer_locked_until = self._lock_customers_over_limit(holder_ids, now)
            written, _ = verifications.update(
                session_id, stepup_store.mismatch(session_id, self._max_failures, now, self._lockout, customer_locked_until)
            )
            if written is None or stepup_store.locked(written, now):
                logger.warning("step-up session locked", extra={"session_id": session_id})
                return self._locked_result(written.locked_until if written else None)
            return StepUpResult(StepUpStatus.mismatch, attempts_left=self._max_failures - written.failures)

        refused = self._send_limits.take(session_id, match.customer_id, now)
        if refused:  # lost a race to the last send of a window
            return self._send_refused(session_id, refused, match.customer_id)
        code = f"{self._rng(10**6):06d}"
        otp_hash = self._hash_code(secrets.token_hex(16), session_id, match.customer_id, code)
        # Stored before it is sent: a code on the customer's phone is always one we can check.
        written, ok = verifications.update(
            session_id, stepup_store.challenge(session_id, match.customer_id, otp_hash, now + self._otp_ttl, now)
        )
        if not ok:
            return self._locked_result(written.locked_until if written else None)
        try:
            self._sender.send(match, code)
        except OtpDeliveryError as exc:
            logger.warning("one-time code delivery failed", extra={"session_id": session_id, "error": str(exc)})
            verifications.update(session_id, stepup_store.expire(otp_hash, now))
            return StepUpResult(StepUpStatus.delivery_failed, escalate=True)
        return StepUpResult(
            StepUpStatus.code_sent,
            masked_destination=mask_phone(match.phone),
            attempts_left=self._max_failures - written.failures,
        )

    def confirm(self, session_id: str, code: str, subject: str | None = None) -> StepUpResult:
        """Check a one-time code; see :mod:`chalicelib.identity.stepup_store` for why each step is a
        separate atomic change and why the attempt is claimed before the code is compared.
        ``subject`` is the customer the channel identified while this was done (None: anonymous);
        the step-up is bound to it and to the proof returned (:meth:`verified_for`)."""
        self._check_session_id(session_id)
        now = self._clock()
        verifications = self._store.verifications
        state = verifications.get(session_id)
        if stepup_store.locked(state, now):
            return self._locked_result(state.locked_until)
        cid = state.candidate_customer_id if state else None
        if cid:
            until = self._customer_locked(cid, now)
            if until:
                return self._locked_result(until)
        if state is None or not cid or not state.otp_hash or state.otp_expires_at is None:
            return StepUpResult(StepUpStatus.no_challenge)
        otp_hash = state.otp_hash
        if now >= aware(state.otp_expires_at):
            verifications.update(session_id, stepup_store.expire(otp_hash, now))
            return StepUpResult(StepUpStatus.expired)

        claimed, ok = verifications.update(session_id, stepup_store.claim(otp_hash, self._max_failures, now))
        if not ok:
            return self._refused(claimed, now)
        if self._code_matches(otp_hash, session_id, cid, (code or "").strip()):
            written, ok = verifications.update(session_id, stepup_store.verify(otp_hash, cid, now))
            if not ok:
                return self._refused(written, now)
            proof = stepup_binding.new_proof()
            stepup_binding.record(verifications, self._pepper, session_id, subject, proof, aware(written.verified_at))
            logger.info("step-up verification succeeded", extra={"session_id": session_id, "customer_id": cid})
            return StepUpResult(StepUpStatus.verified, verified_customer_id=cid, proof=proof)

        verifications.record_customer_failure(cid, now)
        customer_locked_until = self._lock_customers_over_limit([cid], now)
        written, ok = verifications.update(
            session_id,
            stepup_store.lock_if_spent(otp_hash, self._max_failures, now, self._lockout, customer_locked_until),
        )
        if ok or stepup_store.locked(written, now):
            if ok:
                logger.warning("step-up session locked", extra={"session_id": session_id})
            return self._locked_result(written.locked_until)
        return StepUpResult(StepUpStatus.wrong_code, attempts_left=max(0, self._max_failures - claimed.failures))

    # -- internals -------------------------------------------------------------------------
    @staticmethod
    def _check_session_id(session_id: str) -> None:
        if not session_id or not isinstance(session_id, str) or "#" in session_id:  # '#': our record namespaces
            raise ValueError("invalid session id")

    def _refused(self, state: VerificationState | None, now: datetime) -> StepUpResult:
        """No attempt was granted (someone else changed the session first): nothing was compared."""
        if stepup_store.locked(state, now):
            return self._locked_result(state.locked_until)
        if state is not None and state.otp_hash and not state.verified_customer_id:
            return StepUpResult(StepUpStatus.wrong_code, attempts_left=0)  # the last attempts are in flight
        return StepUpResult(StepUpStatus.no_challenge)

    def _customer_locked(self, customer_id: str, now: datetime) -> datetime | None:
        rec = self._store.verifications.get(_CUSTOMER_LOCK_PREFIX + customer_id)
        until = aware(rec.locked_until) if rec is not None else None
        return until if until is not None and now < until else None

    def _lock_customers_over_limit(self, customer_ids: list[str], now: datetime) -> datetime | None:
        """Lock every customer whose failures in the window reached the limit."""
        locked_until = None
        since = now - self._lockout
        for cid in customer_ids:
            if self._store.verifications.failures_for_customer(cid, since) >= self._max_failures:
                until = now + self._lockout
                self._store.verifications.put(
                    VerificationState(
                        session_id=_CUSTOMER_LOCK_PREFIX + cid,
                        candidate_customer_id=cid,
                        locked_until=until,
                        updated_at=now,
                    )
                )
                logger.warning("customer step-up locked", extra={"customer_id": cid, "locked_until": outbound_time(until)})
                locked_until = until
        return locked_until

    @staticmethod
    def _send_refused(session_id: str, code: str, customer_id: str | None = None) -> StepUpResult:
        logger.warning("one-time code send refused",
                       extra={"error_code": code, "session_id": session_id, "customer_id": customer_id})
        return StepUpResult(StepUpStatus.send_limited, escalate=True)

    @staticmethod
    def _locked_result(until: datetime | None) -> StepUpResult:
        return StepUpResult(StepUpStatus.locked, locked_until=aware(until), attempts_left=0, escalate=True)

    def _hash_code(self, salt: str, session_id: str, customer_id: str, code: str) -> str:
        # Bound to session and customer: a hash copied to another session verifies nothing.
        msg = "\x1f".join((salt, session_id, customer_id, code)).encode("utf-8")
        digest = hmac.new(self._pepper or b"step-up-otp", msg, hashlib.sha256).hexdigest()
        return f"{_OTP_HASH_VERSION}${salt}${digest}"

    def _code_matches(self, stored: str, session_id: str, customer_id: str, code: str) -> bool:
        try:
            version, salt, _ = stored.split("$", 2)
        except ValueError:
            return False
        if version != _OTP_HASH_VERSION:
            return False
        candidate = self._hash_code(salt, session_id, customer_id, code)
        return hmac.compare_digest(candidate.encode(), stored.encode())
