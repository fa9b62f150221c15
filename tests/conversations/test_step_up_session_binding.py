"""End to end: a caller who knows another customer's session id does not inherit her step-up."""
from __future__ import annotations

from tests.lex_events import make_lex_event


def _texts(resp: dict) -> str:
    return " ".join(m.get("content", "") for m in resp.get("messages", []))


def test_session_id_alone_does_not_inherit_a_step_up(world):
    """Given Alice verified anonymously in chat "alice-1", When another caller sends a turn with that
    session id but their own session attributes, Then they are asked to verify and see none of her
    disputes; Alice's own next turn (carrying her session) is still verified."""
    em = world.emulator(None, session_id="alice-1")
    for text in ["verify my identity", "4242", "12 April 1988"]:
        em.send(text)
    assert "verified" in " ".join(em.send(world.latest_code("demo-alice")).bot)

    attacker = make_lex_event(intent="DisputeStatus", slots={"CaseId": None}, transcript="status of my dispute",
                              session_id="alice-1", session_attributes={"intentHistory": '["VerifyIdentity"]'})
    resp = world.hook(attacker)
    assert resp["sessionState"]["intent"]["name"] == "VerifyIdentity"
    assert "DSP-ALICE1" not in _texts(resp)

    mine = make_lex_event(intent="DisputeStatus", slots={"CaseId": None}, transcript="status of my dispute",
                          session_id="alice-1", session_attributes=dict(em.session_attributes))
    assert world.hook(mine)["sessionState"]["intent"]["name"] == "DisputeStatus"
