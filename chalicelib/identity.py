"""Who is on the other end of the chat: signed identity tokens and step-up verification.

Account data is shown only to a verified customer. There are exactly two ways to become one:

* a **signed identity token** (JWT compact form, HS256) that an authenticated channel (web app,
  mobile app, Amazon Connect flow) puts in the Lex request or session attributes, or
* **step-up verification** in the chat itself: card last 4 + date of birth, then a one-time code
  sent out of band. Three failures lock the session *and* the customer (across sessions) and
  escalate to a human.

Anything else the client sends (a ``customerId`` attribute, an id typed in the chat) is never
trusted: Lex request and session attributes are fully client-controlled.

Tokens are implemented on the standard library only (hmac/hashlib/json) so the Lambda package
gains no dependency and the whole verification path is small enough to audit in one sitting.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Collection, Protocol

from chalicelib import stepup_store
from chalicelib.core.clock import utcnow
from chalicelib.core.models import Customer, VerificationState

logger = logging.getLogger(__name__)

ISSUER = "dispute-assistant"
ALGORITHM = "HS256"
# RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash output.
MIN_KEY_BYTES = 32
# Tokens arrive inside client-controlled attributes: refuse to parse anything absurdly large.
MAX_TOKEN_CHARS = 4096
DEFAULT_LEEWAY_S = 30

REQUEST_ATTRIBUTE = "x-da-identity"
SESSION_ATTRIBUTE = "identityToken"


def _aware(dt: datetime | None) -> datetime | None:
    """Stores may hand back naive datetimes; every timestamp here is UTC."""
    if dt is not None and dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class IdentityError(Exception):
    """Base class for identity failures."""


class InvalidToken(IdentityError):
    """A token was refused. ``reason`` is a short machine-readable code safe to log; the token
    itself never goes into the message (it is a bearer credential)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"invalid identity token: {reason}" + (f" ({detail})" if detail else ""))


class KeyUnavailable(IdentityError):
    """No signing key could be obtained (Secrets Manager down and nothing cached)."""


class IdentityConfigError(IdentityError):
    """The configuration would be insecure (e.g. a development key in AWS)."""


class OtpDeliveryError(IdentityError):
    """The one-time code could not be sent."""


# --------------------------------------------------------------------------------------------
# Key providers
# --------------------------------------------------------------------------------------------


class KeyProvider(Protocol):
    def signing_key(self) -> bytes:
        """The key new tokens are signed with."""
        ...

    def verification_keys(self) -> list[bytes]:
        """Keys a token may be signed with, current first (rotation: then the previous one)."""
        ...


def _key_bytes(secret: str | bytes | Any) -> bytes:
    if hasattr(secret, "get_secret_value"):  # pydantic SecretStr / SecretBytes
        secret = secret.get_secret_value()
    raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(raw) < MIN_KEY_BYTES:
        raise IdentityConfigError(
            f"identity key too short: HS256 needs at least {MIN_KEY_BYTES} bytes (RFC 7518 §3.2)"
        )
    return raw


class StaticKeyProvider:
    """A key given directly (settings ``DA_IDENTITY_KEY`` or tests); optional previous key so a
    rotation by redeploy does not log every customer out at once."""

    def __init__(self, secret: str | bytes | Any, previous: str | bytes | Any | None = None) -> None:
        self._current = _key_bytes(secret)
        self._previous = _key_bytes(previous) if previous is not None else None

    def signing_key(self) -> bytes:
        return self._current

    def verification_keys(self) -> list[bytes]:
        return [self._current] + ([self._previous] if self._previous else [])


class SecretsManagerKeyProvider:
    """The key from AWS Secrets Manager, cached per container.

    Why the cache: a Lambda turn must not pay a Secrets Manager round trip (and its cost) per
    message. Why AWSPREVIOUS: right after a rotation, tokens minted a moment earlier are signed
    with the old key and must keep working until they expire. Why refresh on a miss: another
    container may already be minting with a key this one has not fetched yet; the refresh is
    rate-limited so a flood of forged tokens cannot turn into a flood of API calls.
    """

    def __init__(
        self,
        client: Any,
        secret_id: str,
        ttl_s: float = 300,
        *,
        min_refresh_interval_s: float = 30,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._ttl_s = ttl_s
        self._min_refresh_s = min_refresh_interval_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._current: bytes | None = None
        self._previous: bytes | None = None
        self._fetched_at: float | None = None
        self._next_refresh_at: float = 0.0

    # -- public API ------------------------------------------------------------------------
    def signing_key(self) -> bytes:
        self._ensure_fresh()
        assert self._current is not None
        return self._current

    def verification_keys(self) -> list[bytes]:
        self._ensure_fresh()
        assert self._current is not None
        return [self._current] + ([self._previous] if self._previous else [])

    def refresh_on_miss(self) -> bool:
        """Refetch after a signature miss, at most once per ``min_refresh_interval_s``.
        Returns True when the keys changed (worth retrying the verification)."""
        with self._lock:
            now = self._monotonic()
            if self._fetched_at is not None and now - self._fetched_at < self._min_refresh_s:
                return False
            before = (self._current, self._previous)
            try:
                self._fetch(now)
            except KeyUnavailable:
                return False
            return (self._current, self._previous) != before

    # -- internals -------------------------------------------------------------------------
    def _ensure_fresh(self) -> None:
        with self._lock:
            now = self._monotonic()
            if self._current is not None and now < self._next_refresh_at:
                return
            try:
                self._fetch(now)
            except KeyUnavailable:
                if self._current is None:
                    raise
                # Fail static: keep the last good key for a short while rather than locking
                # every customer out because Secrets Manager hiccupped.
                logger.warning(
                    "identity key refresh failed; using cached key",
                    extra={"secret_id": self._secret_id},
                )
                self._next_refresh_at = now + min(self._ttl_s, self._min_refresh_s)

    def _fetch(self, now: float) -> None:
        current = self._get_stage("AWSCURRENT", required=True)
        previous = self._get_stage("AWSPREVIOUS", required=False)
        assert current is not None
        self._current = current
        self._previous = previous if previous != current else None
        self._fetched_at = now
        self._next_refresh_at = now + self._ttl_s

    def _get_stage(self, stage: str, *, required: bool) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            resp = self._client.get_secret_value(SecretId=self._secret_id, VersionStage=stage)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if not required and code == "ResourceNotFoundException":
                return None  # no previous version yet: the secret was never rotated
            if not required:
                logger.warning("identity previous key unavailable", extra={"error_code": code})
                return None
            raise KeyUnavailable(f"Secrets Manager {stage}: {code or 'error'}") from exc
        except BotoCoreError as exc:
            if not required:
                return None
            raise KeyUnavailable(f"Secrets Manager {stage}: {type(exc).__name__}") from exc
        return _key_bytes(self._secret_value(resp))

    @staticmethod
    def _secret_value(resp: dict) -> bytes | str:
        if resp.get("SecretBinary") is not None:
            return resp["SecretBinary"]
        text = resp.get("SecretString") or ""
        if text.lstrip().startswith("{"):
            try:
                doc = json.loads(text)
            except ValueError:
                return text
            if isinstance(doc, dict) and isinstance(doc.get("key"), str):
                return doc["key"]
        return text


class DevKeyProvider:
    """A per-machine development key, random, created once in the local data directory.

    Why not a constant in the code: a constant key is public the moment the repository is, and
    then anyone can mint a token for any customer of any deployment that forgot to configure one.
    """

    FILE_NAME = "identity-dev.key"

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._key: bytes | None = None

    @property
    def path(self) -> Path:
        return self._path

    def signing_key(self) -> bytes:
        if self._key is None:
            self._key = self._load_or_create()
        return self._key

    def verification_keys(self) -> list[bytes]:
        return [self.signing_key()]

    def _load_or_create(self) -> bytes:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting together (chalice local + emulator) agree on a key.
            fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
        for _ in range(50):
            text = self._path.read_text(encoding="ascii").strip()
            if text:
                return _key_bytes(bytes.fromhex(text))
            time.sleep(0.01)  # the creating process has not written yet
        raise KeyUnavailable(f"development key file {self._path.name} is empty")


def key_provider_from_settings(settings: Any, secrets_client_factory: Callable[[], Any] | None = None) -> KeyProvider:
    """Pick the key source: explicit key > Secrets Manager > local development key.

    The development key is refused for the DynamoDB backend: that is the AWS deployment, and a
    key generated on a Lambda's scratch disk would differ per container anyway.
    """
    if settings.identity_key is not None:
        return StaticKeyProvider(settings.identity_key)
    if settings.identity_key_secret_id:
        if secrets_client_factory is None:

            def secrets_client_factory() -> Any:

                from chalicelib.core.aws import client as aws_client
                return aws_client("secretsmanager", settings)

        return SecretsManagerKeyProvider(secrets_client_factory(), settings.identity_key_secret_id)
    if settings.backend != "sqlite":
        raise IdentityConfigError(
            "no identity key configured: set DA_IDENTITY_KEY_SECRET_ID (or DA_IDENTITY_KEY)"
        )
    return DevKeyProvider(Path(settings.sqlite_path).parent / DevKeyProvider.FILE_NAME)


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(segment: str) -> bytes:
    """Strict: only the URL-safe alphabet, no padding, canonical trailing bits (so one signature
    has exactly one spelling and a token cannot be altered without changing its bytes)."""
    if not _B64URL.match(segment) or len(segment) % 4 == 1:
        raise InvalidToken("malformed", "not base64url")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("malformed", "not base64url") from exc
    if _b64url_encode(raw) != segment:
        raise InvalidToken("malformed", "non-canonical base64url")
    return raw


def _json_segment(segment: str, what: str) -> dict:
    raw = _b64url_decode(segment)
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidToken("malformed", f"{what} is not JSON") from exc
    if not isinstance(doc, dict):
        raise InvalidToken("malformed", f"{what} is not an object")
    return doc


@dataclass(frozen=True)
class Claims:
    sub: str
    iat: int
    exp: int
    iss: str
    aud: str
    jti: str

    @property
    def customer_id(self) -> str:
        return self.sub


class TokenSigner:
    """Mints and verifies HS256 identity tokens.

    ``audiences`` optionally restricts which channels are accepted (``aud``); ``leeway_s``
    tolerates small clock differences between the minting channel and this Lambda.
    """

    def __init__(
        self,
        key_provider: KeyProvider,
        *,
        default_ttl_s: int = 900,
        audiences: Collection[str] | None = None,
        leeway_s: int = DEFAULT_LEEWAY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = key_provider
        self._default_ttl_s = default_ttl_s
        self._audiences = frozenset(audiences) if audiences is not None else None
        self._leeway_s = leeway_s
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Any, secrets_client_factory: Callable[[], Any] | None = None, **kw: Any) -> "TokenSigner":
        provider = key_provider_from_settings(settings, secrets_client_factory)
        return cls(provider, default_ttl_s=settings.identity_token_ttl_s, **kw)

    def mint(self, customer_id: str, ttl_s: int | None = None, channel: str = "web") -> str:
        if not customer_id or not isinstance(customer_id, str):
            raise ValueError("customer_id is required")
        ttl = self._default_ttl_s if ttl_s is None else int(ttl_s)
        if ttl <= 0:
            raise ValueError("ttl_s must be positive")
        now = int(self._clock())
        header = {"alg": ALGORITHM, "typ": "JWT"}
        payload = {
            "sub": customer_id,
            "iat": now,
            "exp": now + ttl,
            "iss": ISSUER,
            "aud": channel,
            "jti": uuid.uuid4().hex,
        }
        signing_input = (
            _b64url_encode(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url_encode(json.dumps(payload, separators=(",", ":")).encode())
        )
        sig = hmac.new(self._keys.signing_key(), signing_input.encode("ascii"), hashlib.sha256).digest()
        return signing_input + "." + _b64url_encode(sig)

    def verify(self, token: str) -> Claims:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("malformed", "missing or oversized")
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("malformed", "expected header.payload.signature")
        h_seg, p_seg, s_seg = parts
        header = _json_segment(h_seg, "header")
        # The algorithm is fixed on our side; the header may only confirm it. This is what
        # stops "alg": "none" and algorithm-confusion tricks.
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unsupported_alg", repr(header.get("alg"))[:20])
        if header.get("typ", "JWT") != "JWT" or "crit" in header:
            raise InvalidToken("malformed", "unsupported header")
        signature = _b64url_decode(s_seg)
        signing_input = (h_seg + "." + p_seg).encode("ascii")
        if not self._signature_ok(signing_input, signature):
            raise InvalidToken("bad_signature")
        payload = _json_segment(p_seg, "payload")
        return self._check_claims(payload)

    # -- internals -------------------------------------------------------------------------
    def _signature_ok(self, signing_input: bytes, signature: bytes) -> bool:
        try:
            keys = self._keys.verification_keys()
        except KeyUnavailable as exc:
            raise InvalidToken("key_unavailable") from exc
        if self._matches(keys, signing_input, signature):
            return True
        refresh = getattr(self._keys, "refresh_on_miss", None)
        if refresh is not None and refresh():
            return self._matches(self._keys.verification_keys(), signing_input, signature)
        return False

    @staticmethod
    def _matches(keys: list[bytes], signing_input: bytes, signature: bytes) -> bool:
        ok = False
        for key in keys:  # no early exit: every key is tried whatever the outcome
            expected = hmac.new(key, signing_input, hashlib.sha256).digest()
            ok |= hmac.compare_digest(expected, signature)
        return ok

    def _check_claims(self, payload: dict) -> Claims:
        def str_claim(name: str) -> str:
            v = payload.get(name)
            if not isinstance(v, str) or not v:
                raise InvalidToken("malformed", f"claim {name} missing")
            return v

        def int_claim(name: str) -> int:
            v = payload.get(name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidToken("malformed", f"claim {name} missing")
            return v

        sub, iss, aud, jti = (str_claim(n) for n in ("sub", "iss", "aud", "jti"))
        iat, exp = int_claim("iat"), int_claim("exp")
        if iss != ISSUER:
            raise InvalidToken("wrong_issuer")
        if self._audiences is not None and aud not in self._audiences:
            raise InvalidToken("wrong_audience")
        now = self._clock()
        if exp <= now - self._leeway_s:
            raise InvalidToken("expired")
        nbf = payload.get("nbf", iat)
        if isinstance(nbf, bool) or not isinstance(nbf, int):
            raise InvalidToken("malformed", "claim nbf")
        if max(iat, nbf) > now + self._leeway_s:
            raise InvalidToken("not_yet_valid")
        if exp <= iat:
            raise InvalidToken("malformed", "exp before iat")
        return Claims(sub=sub, iat=iat, exp=exp, iss=iss, aud=aud, jti=jti)


# --------------------------------------------------------------------------------------------
# OTP delivery
# --------------------------------------------------------------------------------------------


def mask_phone(phone: str) -> str:
    """Enough for the customer to recognise their number, nothing more."""
    digits = re.sub(r"\D", "", phone or "")
    return "***-" + (digits[-4:] if len(digits) >= 4 else "****")


class OtpSender(Protocol):
    def send(self, customer: Customer, code: str) -> None: ...


class LocalOutboxSender:
    """The local stand-in for SMS: one line per code in a file the console / web chat shows.

    The code goes to the outbox file only, never to the log: logs are shipped and retained,
    and a code in them is a working credential for its lifetime.
    """

    def __init__(self, path: str | Path, clock: Callable[[], datetime] = utcnow) -> None:
        self._path = Path(path)
        self._clock = clock

    @property
    def path(self) -> Path:
        return self._path

    def send(self, customer: Customer, code: str) -> None:
        masked = mask_phone(customer.phone)
        line = f"{self._clock().isoformat()} {customer.customer_id} {masked} {code}\n"
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(line)
        except OSError as exc:
            raise OtpDeliveryError(f"local outbox not writable: {type(exc).__name__}") from exc
        logger.info(
            "one-time code sent", extra={"customer_id": customer.customer_id, "destination": masked, "channel": "local"}
        )


def latest_local_code(path: str | Path, customer_id: str) -> str | None:
    """The newest code in the local outbox for this customer (for the emulator / web console)."""
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        fields = line.split()
        if len(fields) == 4 and fields[1] == customer_id:
            return fields[3]
    return None


def _e164(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        raise OtpDeliveryError("customer has no phone number")
    return "+" + digits


class SnsSmsSender:
    """Sends the code by SMS through Amazon SNS (transactional route, so it is not throttled or
    dropped as marketing)."""

    def __init__(self, client: Any, *, ttl_s: int = 300, sender_id: str | None = None) -> None:
        self._client = client
        self._ttl_min = max(1, ttl_s // 60)
        self._sender_id = sender_id

    def send(self, customer: Customer, code: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        attrs: dict[str, dict[str, str]] = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
        }
        if self._sender_id:
            attrs["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        message = (
            f"Your verification code is {code}. It expires in {self._ttl_min} minutes. "
            "We will never ask you to read it to anyone who calls you."
        )
        try:
            self._client.publish(PhoneNumber=_e164(customer.phone), Message=message, MessageAttributes=attrs)
        except (ClientError, BotoCoreError) as exc:
            raise OtpDeliveryError(f"SNS publish failed: {type(exc).__name__}") from exc
        logger.info(
            "one-time code sent",
            extra={"customer_id": customer.customer_id, "destination": mask_phone(customer.phone), "channel": "sms"},
        )


# --------------------------------------------------------------------------------------------
# Step-up verification
# --------------------------------------------------------------------------------------------


class StepUpStatus(str, Enum):
    code_sent = "code_sent"
    mismatch = "mismatch"
    verified = "verified"
    wrong_code = "wrong_code"
    expired = "expired"
    no_challenge = "no_challenge"
    locked = "locked"
    delivery_failed = "delivery_failed"


@dataclass(frozen=True)
class StepUpResult:
    status: StepUpStatus
    masked_destination: str | None = None
    verified_customer_id: str | None = None
    attempts_left: int | None = None
    locked_until: datetime | None = None
    # True when the dialog layer must hand over to a human (lockout, undeliverable code).
    escalate: bool = False

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
        verified_at = _aware(state.verified_at or state.updated_at)
        if verified_at is None or now - verified_at > self._verified_ttl:
            return None
        return state.verified_customer_id

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

    def confirm(self, session_id: str, code: str) -> StepUpResult:
        """Check a one-time code; see :mod:`chalicelib.stepup_store` for why each step is a
        separate atomic change and why the attempt is claimed before the code is compared."""
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
        if now >= _aware(state.otp_expires_at):
            verifications.update(session_id, stepup_store.expire(otp_hash, now))
            return StepUpResult(StepUpStatus.expired)

        claimed, ok = verifications.update(session_id, stepup_store.claim(otp_hash, self._max_failures, now))
        if not ok:
            return self._refused(claimed, now)
        if self._code_matches(otp_hash, session_id, cid, (code or "").strip()):
            written, ok = verifications.update(session_id, stepup_store.verify(otp_hash, cid, now))
            if not ok:
                return self._refused(written, now)
            logger.info("step-up verification succeeded", extra={"session_id": session_id, "customer_id": cid})
            return StepUpResult(StepUpStatus.verified, verified_customer_id=cid)

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
        if not session_id or not isinstance(session_id, str) or session_id.startswith(_CUSTOMER_LOCK_PREFIX):
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
        until = _aware(rec.locked_until) if rec is not None else None
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
                logger.warning("customer step-up locked", extra={"customer_id": cid, "locked_until": until.isoformat()})
                locked_until = until
        return locked_until

    @staticmethod
    def _locked_result(until: datetime | None) -> StepUpResult:
        return StepUpResult(StepUpStatus.locked, locked_until=_aware(until), attempts_left=0, escalate=True)

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


# --------------------------------------------------------------------------------------------
# Resolving who is talking
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    customer_id: str | None
    method: str | None  # "token" | "step_up" | None
    locked: bool = False
    # Why a presented token was refused (for logs and metrics; never shown to the customer).
    token_error: str | None = None

    @property
    def verified(self) -> bool:
        return self.customer_id is not None


class IdentityResolver:
    """Turns a Lex turn's attributes into a verified customer, or none.

    Only two sources count: a token that verifies, or a completed step-up recorded server-side
    for this session. Attributes such as ``customerId`` are client-controlled in Lex and are
    deliberately never read.
    """

    def __init__(self, signer: TokenSigner, step_up: StepUpService | None) -> None:
        self._signer = signer
        self._step_up = step_up

    def resolve(
        self, request_attributes: dict | None, session_attributes: dict | None, session_id: str
    ) -> Identity:
        token_error = None
        sources = (
            (request_attributes or {}).get(REQUEST_ATTRIBUTE),
            (session_attributes or {}).get(SESSION_ATTRIBUTE),
        )
        for source in sources:
            if not source:
                continue
            try:
                claims = self._signer.verify(source)
            except InvalidToken as exc:
                token_error = token_error or exc.reason
                continue
            return Identity(claims.sub, "token", False)
        if token_error:
            logger.info("identity token refused", extra={"session_id": session_id, "reason": token_error})

        if self._step_up is None or not session_id:
            return Identity(None, None, False, token_error)
        try:
            cid = self._step_up.verified_customer(session_id)
            locked = False if cid else self._step_up.is_locked(session_id)
        except ValueError:
            return Identity(None, None, False, token_error)
        if cid:
            return Identity(cid, "step_up", False, token_error)
        return Identity(None, None, locked, token_error)


def resolve_identity(
    request_attributes: dict | None,
    session_attributes: dict | None,
    session_id: str,
    *,
    signer: TokenSigner,
    step_up: StepUpService | None,
) -> Identity:
    """Functional form of :meth:`IdentityResolver.resolve`."""
    return IdentityResolver(signer, step_up).resolve(request_attributes, session_attributes, session_id)
