"""Turning a Lex turn into a verified customer, or none.

Only a verifying token or a completed server-side step-up count: Lex request and session
attributes are fully client-controlled, so a ``customerId`` attribute or an id typed in the
chat is never trusted.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from chalicelib.identity.errors import IdentityConfigError, InvalidToken
from chalicelib.identity.stepup import StepUpService
from chalicelib.identity.stepup_binding import PROOF_ATTRIBUTE
from chalicelib.identity.tokens import TokenSigner

logger = logging.getLogger(__name__)

REQUEST_ATTRIBUTE = "x-da-identity"
SESSION_ATTRIBUTE = "identityToken"


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
        # A signer that accepts any audience would take a token minted for another service
        # with the same key: refused here, so no wiring can forget the allowlist.
        if not signer.audiences:
            raise IdentityConfigError("the identity resolver needs a signer with an audience allowlist")
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
            # No channel identity got this far: only the anonymous session that did the step-up,
            # holding its proof, may use it (not whoever knows the session id).
            proof = (session_attributes or {}).get(PROOF_ATTRIBUTE)
            cid = self._step_up.verified_for(session_id, None, proof)
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
