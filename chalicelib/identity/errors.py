"""What can go wrong while establishing who is talking, as exceptions callers can tell apart.

One hierarchy (``IdentityError``) so a channel can refuse every identity failure in one place,
while the subclasses say whether the token, the key source, the configuration or the OTP
delivery is to blame.
"""
from __future__ import annotations

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
