"""The step-up service against the real stores, not just the in-memory fake: lock records and
cross-session failure counts must survive the round trip through SQLite and DynamoDB (moto)."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.identity import IdentityResolver, StepUpService, StepUpStatus
from tests.support.aws import moto_dynamo_store

from .conftest import ALICE_DOB, seed


@pytest.fixture(params=["sqlite", "dynamodb"])
def real_store(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        from chalicelib.storage.sqlite import SqliteStore

        s = SqliteStore(tmp_path / "identity.db")
        s.create_schema()
        seed(s)
        yield s
        s.close()
        return

    with moto_dynamo_store(monkeypatch, seed=seed) as s:
        yield s


def test_step_up_and_cross_session_lock_on_a_real_store(real_store, settings, sender, clock, signer):
    """Given a real store, When Alice verifies in one chat and an attacker fails three times on
    her card across three other chats, Then Alice's chat stays verified, every new chat on her
    card is locked until lockout_s passes, and then she can verify again."""
    svc = StepUpService(real_store, settings, sender, clock=clock)
    resolver = IdentityResolver(signer, svc)

    assert svc.begin("alice-chat", "4242", ALICE_DOB).status == StepUpStatus.code_sent
    done = svc.confirm("alice-chat", sender.last_code)
    assert done.status == StepUpStatus.verified
    alice_session = {"customerId": "demo-bob", "stepUpProof": done.proof}
    assert resolver.resolve({}, alice_session, "alice-chat").customer_id == "demo-alice"
    assert resolver.resolve({}, {}, "alice-chat").customer_id is None  # the session id alone is not enough

    results = [svc.begin(f"attacker-{i}", "4242", date(1999, 1, i + 1)) for i in range(3)]
    assert [r.status for r in results] == ["mismatch", "mismatch", "locked"]
    assert svc.begin("attacker-9", "4242", ALICE_DOB).status == StepUpStatus.locked
    assert resolver.resolve({}, {}, "attacker-9").customer_id is None
    assert resolver.resolve({}, alice_session, "alice-chat").customer_id == "demo-alice"

    clock.advance(settings.lockout_s)
    assert svc.begin("alice-again", "4242", ALICE_DOB).status == StepUpStatus.code_sent
    assert svc.confirm("alice-again", sender.last_code).status == StepUpStatus.verified
