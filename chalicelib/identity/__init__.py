"""Who is on the other end of the chat: signed identity tokens and step-up verification.

Account data is shown only to a verified customer. There are exactly two ways to become one:

* a **signed identity token** (:mod:`.tokens`, keys from :mod:`.keys`) that an authenticated
  channel (web app, mobile app, Amazon Connect flow) puts in the Lex request or session
  attributes, or
* **step-up verification** in the chat itself (:mod:`.stepup`, atomic state changes in
  :mod:`.stepup_store`): card last 4 + date of birth, then a one-time code sent out of band
  (:mod:`.otp_senders`).

:mod:`.resolver` turns a Lex turn into one of those or none. This package face re-exports the
public names so callers keep writing ``from chalicelib.identity import TokenSigner``.
"""
from chalicelib.identity.errors import (
    IdentityConfigError,
    IdentityError,
    InvalidToken,
    KeyUnavailable,
    OtpDeliveryError,
)
from chalicelib.identity.keys import (
    MIN_KEY_BYTES,
    DevKeyProvider,
    KeyProvider,
    SecretsManagerKeyProvider,
    StaticKeyProvider,
    key_provider_from_settings,
)
from chalicelib.identity.otp_senders import (
    LocalOutboxSender,
    OtpSender,
    SnsSmsSender,
    latest_local_code,
    mask_phone,
)
from chalicelib.identity.resolver import (
    REQUEST_ATTRIBUTE,
    SESSION_ATTRIBUTE,
    Identity,
    IdentityResolver,
    resolve_identity,
)
from chalicelib.identity.stepup import StepUpResult, StepUpService, StepUpStatus
from chalicelib.identity.stepup_binding import PROOF_ATTRIBUTE
from chalicelib.identity.tokens import (
    ALGORITHM,
    DEFAULT_LEEWAY_S,
    ISSUER,
    MAX_TOKEN_CHARS,
    Claims,
    TokenSigner,
)

__all__ = [
    "ALGORITHM",
    "DEFAULT_LEEWAY_S",
    "ISSUER",
    "MAX_TOKEN_CHARS",
    "MIN_KEY_BYTES",
    "PROOF_ATTRIBUTE",
    "REQUEST_ATTRIBUTE",
    "SESSION_ATTRIBUTE",
    "Claims",
    "DevKeyProvider",
    "Identity",
    "IdentityConfigError",
    "IdentityError",
    "IdentityResolver",
    "InvalidToken",
    "KeyProvider",
    "KeyUnavailable",
    "LocalOutboxSender",
    "OtpDeliveryError",
    "OtpSender",
    "SecretsManagerKeyProvider",
    "SnsSmsSender",
    "StaticKeyProvider",
    "StepUpResult",
    "StepUpService",
    "StepUpStatus",
    "TokenSigner",
    "key_provider_from_settings",
    "latest_local_code",
    "mask_phone",
    "resolve_identity",
]
