"""Signed identity tokens (JWT compact form, HS256) that authenticated channels hand to the bot.

Implemented on the standard library only (hmac/hashlib/json) so the Lambda package gains no
dependency and the whole verification path is small enough to audit in one sitting.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Collection

from chalicelib.identity.errors import IdentityConfigError, InvalidToken, KeyUnavailable
from chalicelib.identity.keys import KeyProvider, key_provider_from_settings

ISSUER = "dispute-assistant"
ALGORITHM = "HS256"
# Tokens arrive inside client-controlled attributes: refuse to parse anything absurdly large.
MAX_TOKEN_CHARS = 4096
DEFAULT_LEEWAY_S = 30
# The longest a token may live (exp - iat) unless the wiring says otherwise.
DEFAULT_MAX_LIFETIME_S = 3600

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


def audiences_from_settings(settings: Any) -> frozenset[str]:
    """The configured ``aud`` allowlist; an empty list is a configuration error, not "any"."""
    raw = getattr(settings, "identity_token_audiences", "")
    auds = frozenset(a.strip() for a in str(raw).split(",") if a.strip())
    if not auds:
        raise IdentityConfigError("identity_token_audiences is empty: no channel could sign in")
    return auds


class TokenSigner:
    """Mints and verifies HS256 identity tokens.

    ``audiences`` restricts which channels are accepted (``aud``; None accepts any and is for
    tests of the signature alone: every production wiring goes through :meth:`from_settings`,
    which always passes the configured list); ``max_lifetime_s`` caps exp - iat, so a token
    signed with a far-future exp is refused; ``leeway_s`` tolerates small clock differences
    between the minting channel and this Lambda.
    """

    def __init__(
        self,
        key_provider: KeyProvider,
        *,
        default_ttl_s: int = 900,
        audiences: Collection[str] | None = None,
        leeway_s: int = DEFAULT_LEEWAY_S,
        max_lifetime_s: int = DEFAULT_MAX_LIFETIME_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = key_provider
        self._default_ttl_s = default_ttl_s
        self._audiences = frozenset(audiences) if audiences is not None else None
        self._leeway_s = leeway_s
        self._max_lifetime_s = int(max_lifetime_s)
        if self._max_lifetime_s <= 0:
            raise ValueError("max_lifetime_s must be positive")
        self._clock = clock

    @property
    def audiences(self) -> frozenset[str] | None:
        """The accepted ``aud`` values (None: any, which no chat wiring accepts)."""
        return self._audiences

    @classmethod
    def from_settings(cls, settings: Any, secrets_client_factory: Callable[[], Any] | None = None, **kw: Any) -> "TokenSigner":
        """The production wiring: audiences and maximum lifetime always come from settings
        (``extra_audiences`` adds channels such as the local emulator's)."""
        provider = key_provider_from_settings(settings, secrets_client_factory)
        extra = kw.pop("extra_audiences", ())
        kw.setdefault("audiences", audiences_from_settings(settings) | frozenset(extra))
        kw.setdefault("max_lifetime_s", settings.identity_token_max_lifetime_s)
        return cls(provider, default_ttl_s=settings.identity_token_ttl_s, **kw)

    def mint(self, customer_id: str, ttl_s: int | None = None, channel: str = "web") -> str:
        if not customer_id or not isinstance(customer_id, str):
            raise ValueError("customer_id is required")
        ttl = self._default_ttl_s if ttl_s is None else int(ttl_s)
        if ttl <= 0 or ttl > self._max_lifetime_s:
            raise ValueError(f"ttl_s must be between 1 and {self._max_lifetime_s}")
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
        if exp - iat > self._max_lifetime_s:
            raise InvalidToken("lifetime_too_long")
        return Claims(sub=sub, iat=iat, exp=exp, iss=iss, aud=aud, jti=jti)
