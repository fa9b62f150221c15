"""Who the assistant is talking to. Lex request and session attributes are set by the client, so
the only identities that count are a verified token and a step-up recorded server-side."""
from __future__ import annotations

import pytest

from chalicelib.identity import (
    Identity,
    IdentityResolver,
    StaticKeyProvider,
    TokenSigner,
    resolve_identity,
)

from .conftest import ALICE_DOB


@pytest.fixture
def resolver(signer, step_up) -> IdentityResolver:
    return IdentityResolver(signer, step_up)


def test_token_in_request_attributes(resolver, signer):
    """Given a valid token in requestAttributes, Then the turn belongs to its customer."""
    ident = resolver.resolve({"x-da-identity": signer.mint("demo-alice")}, {}, "s1")
    assert ident == Identity("demo-alice", "token", False)
    assert ident.verified


def test_token_in_session_attributes(resolver, signer):
    """Given a valid token in sessionAttributes (where a web channel leaves it), Then it counts."""
    ident = resolver.resolve(None, {"identityToken": signer.mint("demo-bob")}, "s1")
    assert (ident.customer_id, ident.method) == ("demo-bob", "token")


def test_plain_customer_id_attributes_are_never_trusted(resolver):
    """Given every spelling of a customer id in every attribute bag but no proof, Then the turn
    is unverified."""
    attrs = {"customerId": "demo-alice", "customer_id": "demo-alice", "CustomerId": "demo-alice",
             "sub": "demo-alice", "verifiedCustomerId": "demo-alice"}
    ident = resolver.resolve(dict(attrs), dict(attrs), "s1")
    assert ident == Identity(None, None, False)
    assert not ident.verified


def test_customer_id_attribute_cannot_override_a_token(resolver, signer):
    """Given Bob's valid token and a customerId attribute naming Alice, Then the turn is Bob's."""
    ident = resolver.resolve(
        {"x-da-identity": signer.mint("demo-bob"), "customerId": "demo-alice"},
        {"customerId": "demo-alice"},
        "s1",
    )
    assert ident.customer_id == "demo-bob"


def test_invalid_token_falls_back_to_unverified(resolver, clock, signer):
    """Given an expired token and no step-up, Then the turn is unverified and the refusal reason is
    kept for the logs."""
    token = signer.mint("demo-alice", ttl_s=10)
    clock.advance(3600)
    ident = resolver.resolve({"x-da-identity": token}, {}, "s1")
    assert ident.customer_id is None and ident.token_error == "expired"


def test_forged_token_is_ignored(resolver, clock):
    """Given a token signed with someone else's key, Then the turn is unverified."""
    forged = TokenSigner(StaticKeyProvider("f" * 32), clock=clock.epoch).mint("demo-alice")
    ident = resolver.resolve({"x-da-identity": forged}, {"identityToken": forged}, "s1")
    assert ident.customer_id is None and ident.token_error == "bad_signature"


def test_bad_request_token_then_good_session_token(resolver, signer):
    """Given a junk request token and a valid session token, Then the valid one is used."""
    ident = resolver.resolve({"x-da-identity": "junk"}, {"identityToken": signer.mint("demo-alice")}, "s1")
    assert ident.customer_id == "demo-alice"


def test_completed_step_up_for_this_session(resolver, step_up, sender):
    """Given Alice completed step-up in session s1, Then s1 is Alice and other sessions are not."""
    step_up.begin("s1", "4242", ALICE_DOB)
    proof = step_up.confirm("s1", sender.last_code).proof
    assert resolver.resolve({}, {"stepUpProof": proof}, "s1") == Identity("demo-alice", "step_up", False)
    assert resolver.resolve({}, {"stepUpProof": proof}, "s2").customer_id is None


def test_pending_step_up_is_not_verified(resolver, step_up):
    """Given a code was sent but not confirmed, Then the session is not verified yet."""
    step_up.begin("s1", "4242", ALICE_DOB)
    assert resolver.resolve({}, {}, "s1").customer_id is None


def test_locked_session_is_reported(resolver, step_up):
    """Given a locked session, Then the identity says so, so the dialog hands over to a human."""
    for _ in range(3):
        step_up.begin("s1", "0000", ALICE_DOB)
    assert resolver.resolve({}, {}, "s1") == Identity(None, None, True)


def test_token_wins_over_a_locked_session(resolver, step_up, signer):
    """Given a locked chat session that then presents a valid channel token, Then the token
    identifies the customer (the channel authenticated them itself)."""
    for _ in range(3):
        step_up.begin("s1", "0000", ALICE_DOB)
    assert resolver.resolve({"x-da-identity": signer.mint("demo-alice")}, {}, "s1").method == "token"


def test_functional_form_and_no_step_up(signer):
    """Given no step-up service (token-only channels), Then only tokens identify customers."""
    assert resolve_identity({}, {"customerId": "demo-alice"}, "s1", signer=signer, step_up=None) == Identity(
        None, None, False
    )
    assert resolve_identity({"x-da-identity": signer.mint("demo-alice")}, {}, "s1", signer=signer,
                            step_up=None).customer_id == "demo-alice"


def test_reserved_session_id_is_just_unverified(resolver):
    """Given a session id from the lock-record namespace, Then resolving does not error and does
    not read the lock record as a session."""
    assert resolver.resolve({}, {}, "customer-lock#demo-alice") == Identity(None, None, False)
