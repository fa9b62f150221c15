"""A completed step-up belongs to the customer the channel identifies, or to the anonymous session
that did it (holding its proof): never to whoever knows the session id."""
from __future__ import annotations

import pytest

from chalicelib.identity import PROOF_ATTRIBUTE, Identity, IdentityResolver

from .conftest import ALICE_DOB


@pytest.fixture
def resolver(signer, step_up) -> IdentityResolver:
    return IdentityResolver(signer, step_up)


def _verify(step_up, sender, sid: str, subject: str | None = None):
    step_up.begin(sid, "4242", ALICE_DOB)
    return step_up.confirm(sid, sender.last_code, subject=subject)


def test_knowing_the_session_id_does_not_inherit_the_step_up(resolver, step_up, sender):
    """Given Alice verified anonymously in session s1, When a caller sends s1 without her session's
    proof (or with a guessed one), Then they are not identified; with the proof, Alice is."""
    proof = _verify(step_up, sender, "s1").proof
    assert resolver.resolve({}, {}, "s1").customer_id is None
    assert resolver.resolve({}, {PROOF_ATTRIBUTE: "a" * 32}, "s1").customer_id is None
    assert resolver.resolve({}, {PROOF_ATTRIBUTE: proof}, "s1") == Identity("demo-alice", "step_up", False)


def test_proof_of_one_session_does_not_open_another(resolver, step_up, sender):
    """Given proofs of two sessions, Then each opens only its own session."""
    p1 = _verify(step_up, sender, "s1").proof
    assert resolver.resolve({}, {PROOF_ATTRIBUTE: p1}, "s2").customer_id is None


def test_step_up_done_under_a_token_is_not_inherited_anonymously(resolver, step_up, sender):
    """Given Alice, identified by her channel's token, stepped up in s1 (to release a hold), When an
    anonymous caller uses s1, even with the proof, Then they are not Alice; Alice's channel still is."""
    done = _verify(step_up, sender, "s1", subject="demo-alice")
    assert resolver.resolve({}, {PROOF_ATTRIBUTE: done.proof}, "s1").customer_id is None
    assert step_up.verified_for("s1", "demo-alice", None) == "demo-alice"
    assert step_up.verified_for("s1", "demo-bob", done.proof) is None
    assert step_up.fresh_verification("s1", "demo-alice")


def test_a_new_step_up_retires_the_earlier_proof(resolver, step_up, sender, clock):
    """Given s1 verified twice, Then only the latest proof counts."""
    first = _verify(step_up, sender, "s1").proof
    clock.advance(5)
    second = _verify(step_up, sender, "s1").proof
    assert resolver.resolve({}, {PROOF_ATTRIBUTE: first}, "s1").customer_id is None
    assert resolver.resolve({}, {PROOF_ATTRIBUTE: second}, "s1").customer_id == "demo-alice"


def test_proof_has_no_digits_for_the_card_guard_to_mask(step_up, sender):
    """Given a proof, Then it is 32 letters (it travels in a session attribute the PAN guard scans)."""
    proof = _verify(step_up, sender, "s1").proof
    assert len(proof) == 32 and proof.isalpha()
