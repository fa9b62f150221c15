"""Step-up verification in chat: card last 4 + date of birth, then a one-time code. The attacker
model is someone who knows (or guesses) a card's last 4 and tries birth dates and codes, in one
chat or in many."""
from __future__ import annotations

import logging
from datetime import date

import pytest

from chalicelib.identity import (
    LocalOutboxSender,
    OtpDeliveryError,
    StepUpService,
    StepUpStatus,
    latest_local_code,
)

from .conftest import ALICE_DOB, BOB_DOB, CAROL_DOB

WRONG_DOB = date(2000, 1, 1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_success_sends_a_code_and_verifies(step_up, sender):
    """Given Alice's last 4 and DOB, When she confirms the code she received, Then the session is
    verified as Alice."""
    r = step_up.begin("s1", "4242", ALICE_DOB)
    assert r.status == StepUpStatus.code_sent == "code_sent"
    assert r.masked_destination == r.destination == "***-0100"
    assert r.customer_id is None  # not verified yet: the code has only been sent
    assert not r.escalate
    assert sender.sent[0][0] == "demo-alice"
    code = sender.last_code
    assert len(code) == 6 and code.isdigit()

    r = step_up.confirm("s1", code)
    assert r.status == StepUpStatus.verified
    assert r.verified_customer_id == r.customer_id == "demo-alice"
    assert step_up.status("s1").verified_customer_id == "demo-alice"
    assert step_up.verified_customer("s1") == "demo-alice"


def test_shared_last4_resolves_by_dob(step_up, sender):
    """Given Alice and Carol both hold a card ending 4242, When Carol gives her DOB, Then the code
    goes to Carol, not Alice."""
    assert step_up.begin("s1", "4242", CAROL_DOB).status == StepUpStatus.code_sent
    assert sender.sent[0][0] == "demo-carol"
    assert step_up.confirm("s1", sender.last_code).verified_customer_id == "demo-carol"


def test_only_a_hash_of_the_code_is_stored(step_up, store, sender):
    """Given a code was sent, Then the stored state does not contain the code itself (a leaked
    table must not hand out working codes)."""
    step_up.begin("s1", "4242", ALICE_DOB)
    state = store.verifications.get("s1")
    assert state.otp_hash and sender.last_code not in state.otp_hash
    assert state.candidate_customer_id == "demo-alice"
    assert state.verified_customer_id is None


def test_wrong_dob_is_a_mismatch(step_up, sender):
    """Given the right last 4 but a wrong DOB, Then nothing is sent and the result is mismatch."""
    r = step_up.begin("s1", "4242", WRONG_DOB)
    assert r.status == StepUpStatus.mismatch
    assert r.attempts_left == 2
    assert sender.sent == []
    assert step_up.status("s1").failures == 1


def test_unknown_last4_looks_exactly_like_wrong_dob(step_up, settings, clock, sender, store):
    """Given a last 4 nobody holds, Then the result is indistinguishable from a wrong DOB, so the
    chat cannot be used to learn which cards exist."""
    unknown = step_up.begin("s1", "0000", ALICE_DOB)
    wrong_dob = step_up.begin("s2", "4242", WRONG_DOB)
    assert unknown == wrong_dob
    assert unknown.status == StepUpStatus.mismatch
    assert step_up.status("s1").failures == step_up.status("s2").failures == 1


@pytest.mark.parametrize("last4", ["", "42", "42424", "abcd", None])
def test_malformed_last4_is_a_mismatch(step_up, last4):
    """Given junk where the last 4 should be, Then it is a counted mismatch, not an error."""
    assert step_up.begin("s1", last4, ALICE_DOB).status == StepUpStatus.mismatch


def test_wrong_code_then_right_code(step_up, sender):
    """Given a code was sent, When Alice mistypes it once and then types it right, Then the first
    attempt is wrong_code with attempts left and the second verifies."""
    step_up.begin("s1", "4242", ALICE_DOB)
    code = sender.last_code
    r = step_up.confirm("s1", wrong(code))
    assert r.status == StepUpStatus.wrong_code
    assert r.attempts_left == 2
    assert step_up.verified_customer("s1") is None
    assert step_up.confirm("s1", code).status == StepUpStatus.verified


def test_code_is_single_use(step_up, sender):
    """Given a verified session, When the same code is confirmed again, Then there is no live
    challenge: a replayed code proves nothing new."""
    step_up.begin("s1", "4242", ALICE_DOB)
    code = sender.last_code
    step_up.confirm("s1", code)
    assert step_up.confirm("s1", code).status == StepUpStatus.no_challenge


def test_expired_code(step_up, sender, clock, settings):
    """Given a code, When otp_ttl_s passes, Then even the right code is expired and a new
    challenge is needed."""
    step_up.begin("s1", "4242", ALICE_DOB)
    code = sender.last_code
    clock.advance(settings.otp_ttl_s)
    assert step_up.confirm("s1", code).status == StepUpStatus.expired
    assert step_up.confirm("s1", code).status == StepUpStatus.no_challenge
    step_up.begin("s1", "4242", ALICE_DOB)
    assert step_up.confirm("s1", sender.last_code).status == StepUpStatus.verified


def test_code_just_before_expiry_still_works(step_up, sender, clock, settings):
    """Given a code, When confirmed one second before otp_ttl_s, Then it verifies."""
    step_up.begin("s1", "4242", ALICE_DOB)
    clock.advance(settings.otp_ttl_s - 1)
    assert step_up.confirm("s1", sender.last_code).status == StepUpStatus.verified


def test_confirm_without_begin(step_up):
    """Given a session that never started step-up, Then confirm says there is no challenge."""
    assert step_up.confirm("fresh", "123456").status == StepUpStatus.no_challenge
    assert step_up.status("fresh") is None


def test_code_of_another_session_does_not_verify(step_up, sender):
    """Given codes sent to two sessions for the same customer, Then one session's code does not
    verify the other."""
    step_up.begin("s1", "4242", ALICE_DOB)
    code1 = sender.last_code
    step_up.begin("s2", "4242", ALICE_DOB)
    code2 = sender.last_code
    if code1 != code2:
        assert step_up.confirm("s2", code1).status == StepUpStatus.wrong_code
    assert step_up.confirm("s2", code2).status == StepUpStatus.verified


def test_three_wrong_codes_lock_and_escalate(step_up, sender):
    """Given a code was sent, When three wrong codes are entered, Then the session is locked, the
    result asks for escalation, and even the right code no longer works."""
    step_up.begin("s1", "4242", ALICE_DOB)
    code = sender.last_code
    assert step_up.confirm("s1", wrong(code)).status == StepUpStatus.wrong_code
    assert step_up.confirm("s1", wrong(code)).status == StepUpStatus.wrong_code
    r = step_up.confirm("s1", wrong(code))
    assert r.status == StepUpStatus.locked and r.escalate and r.locked_until is not None
    assert step_up.confirm("s1", code).status == StepUpStatus.locked
    assert step_up.verified_customer("s1") is None
    assert step_up.is_locked("s1")


def test_three_mismatches_lock_the_session(step_up, sender):
    """Given three wrong DOBs in one chat, Then the session is locked, and further attempts (even
    with the right details) send nothing and change nothing."""
    assert step_up.begin("s1", "4242", WRONG_DOB).status == StepUpStatus.mismatch
    assert step_up.begin("s1", "9999", WRONG_DOB).status == StepUpStatus.mismatch
    r = step_up.begin("s1", "0000", WRONG_DOB)
    assert r.status == StepUpStatus.locked and r.escalate
    before = step_up.status("s1")
    r = step_up.begin("s1", "1881", BOB_DOB)
    assert r.status == StepUpStatus.locked
    assert sender.sent == []
    assert step_up.status("s1") == before


def test_lock_follows_the_customer_into_a_new_session(step_up, sender):
    """Given three wrong DOB guesses at Alice's card spread over three chats, When a fourth chat
    tries her card, Then it is locked, even with the right DOB: a new chat buys no new tries and
    "locked" does not confirm a guessed birth date."""
    for i, dob in enumerate([date(1980, 1, 1), date(1981, 1, 1), date(1982, 1, 1)]):
        r = step_up.begin(f"attacker-{i}", "4242", dob)
    assert r.status == StepUpStatus.locked and r.escalate
    r = step_up.begin("attacker-9", "4242", ALICE_DOB)
    assert r.status == StepUpStatus.locked and r.escalate
    assert sender.sent == []


def test_wrong_codes_across_sessions_lock_the_customer(step_up, sender):
    """Given an attacker who knows Alice's last 4 and DOB but not her phone, When they burn one
    wrong code in each of three chats, Then Alice is locked in every chat, including an open
    challenge in another session."""
    step_up.begin("victim", "4242", ALICE_DOB)
    victim_code = sender.last_code
    for i in range(3):
        step_up.begin(f"a{i}", "4242", ALICE_DOB)
        r = step_up.confirm(f"a{i}", wrong(sender.last_code))
    assert r.status == StepUpStatus.locked and r.escalate
    assert step_up.begin("a9", "4242", ALICE_DOB).status == StepUpStatus.locked
    assert step_up.confirm("victim", victim_code).status == StepUpStatus.locked


def test_other_customers_are_not_locked(step_up, sender):
    """Given Alice's card is locked, Then Bob (another last 4) can still verify."""
    for i in range(3):
        step_up.begin(f"a{i}", "4242", WRONG_DOB)
    assert step_up.begin("bob", "1881", BOB_DOB).status == StepUpStatus.code_sent
    assert step_up.confirm("bob", sender.last_code).status == StepUpStatus.verified


def test_lock_expires_after_lockout(step_up, sender, clock, settings):
    """Given a locked session and customer, When lockout_s passes, Then the customer can verify
    again and has a full set of attempts."""
    for _ in range(3):
        step_up.begin("s1", "4242", WRONG_DOB)
    clock.advance(settings.lockout_s - 1)
    assert step_up.begin("s1", "4242", ALICE_DOB).status == StepUpStatus.locked
    clock.advance(1)
    r = step_up.begin("s1", "4242", ALICE_DOB)
    assert r.status == StepUpStatus.code_sent and r.attempts_left == 3
    assert step_up.confirm("s1", sender.last_code).status == StepUpStatus.verified


def test_failures_outside_the_window_do_not_add_up(step_up, clock, settings):
    """Given two failures, When the window passes before a third, Then there is no lock: only
    failures within lockout_s of each other count against the customer."""
    step_up.begin("a1", "4242", WRONG_DOB)
    step_up.begin("a2", "4242", WRONG_DOB)
    clock.advance(settings.lockout_s + 1)
    assert step_up.begin("a3", "4242", WRONG_DOB).status == StepUpStatus.mismatch


def test_verification_goes_stale(step_up, sender, clock, settings):
    """Given a verified session, When identity_token_ttl_s passes, Then the session must verify
    again (a chat left open on a shared screen does not stay verified forever)."""
    step_up.begin("s1", "4242", ALICE_DOB)
    step_up.confirm("s1", sender.last_code)
    clock.advance(settings.identity_token_ttl_s + 1)
    assert step_up.verified_customer("s1") is None


def test_delivery_failure_escalates(store, settings, clock):
    """Given the SMS route is down, Then no challenge is left pending and the dialog is told to
    escalate rather than wait for a code that never comes."""

    class Broken:
        def send(self, customer, code):
            raise OtpDeliveryError("down")

    svc = StepUpService(store, settings, Broken(), clock=clock)
    r = svc.begin("s1", "4242", ALICE_DOB)
    assert r.status == StepUpStatus.delivery_failed and r.escalate
    assert svc.confirm("s1", "000000").status == StepUpStatus.no_challenge


def test_codes_come_from_the_injected_rng(store, settings, clock, sender):
    """Given an injected rng, Then the code is its value zero-padded to six digits."""
    svc = StepUpService(store, settings, sender, clock=clock, rng=lambda n: 42)
    svc.begin("s1", "4242", ALICE_DOB)
    assert sender.last_code == "000042"


def test_reserved_session_ids_are_refused(step_up):
    """Given a session id in the namespace of customer lock records, Then it is refused, so no
    client can read or overwrite a lock by naming it."""
    with pytest.raises(ValueError):
        step_up.begin("customer-lock#demo-alice", "4242", ALICE_DOB)
    with pytest.raises(ValueError):
        step_up.status("")


_STANDARD_RECORD_ATTRS = set(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None))) | {"message", "asctime"}


def test_code_never_reaches_the_logs(caplog, tmp_path, store, settings, clock):
    """Given full debug logging, When codes are sent, mistyped, confirmed and locked, Then no log
    record (message or structured extra field) contains a code."""
    caplog.set_level(logging.DEBUG)
    codes = iter([739146, 582033])
    outbox = LocalOutboxSender(tmp_path / "outbox.log", clock=clock)
    svc = StepUpService(store, settings, outbox, clock=clock, rng=lambda n: next(codes))
    svc.begin("s1", "4242", ALICE_DOB)
    svc.confirm("s1", "000001")
    svc.confirm("s1", "739146")
    svc.begin("s2", "4242", ALICE_DOB)
    for _ in range(3):
        svc.confirm("s2", "000001")
    assert latest_local_code(outbox.path, "demo-alice") == "582033"  # the codes really went out
    assert any("one-time code sent" in r.getMessage() for r in caplog.records)
    assert any("locked" in r.getMessage() for r in caplog.records)
    for rec in caplog.records:
        extras = [str(v) for k, v in vars(rec).items() if k not in _STANDARD_RECORD_ATTRS]
        text = " ".join([rec.getMessage(), *extras])
        assert "739146" not in text and "582033" not in text
