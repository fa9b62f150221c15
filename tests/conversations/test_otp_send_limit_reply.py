"""The customer is told clearly when no more codes can be sent, and a person takes over."""
from __future__ import annotations

from intents.replies import render


def test_code_limit_reply_and_handoff(world):
    """Given Alice's hourly code sends are used up by earlier chats, When a new chat asks to verify
    her, Then the bot says it cannot send another code, gives a reference to a person, and records a
    handoff with reason otp_send_limit; no further code is sent."""
    limit = world.settings.otp_max_sends_per_customer_per_hour
    for i in range(limit):
        em = world.emulator(None, session_id=f"earlier-{i}")
        for text in ["verify my identity", "4242"]:
            em.send(text)
        assert "sent a 6-digit code" in " ".join(em.send("12 April 1988").bot)
    sent = world.settings.otp_outbox_path.read_text().count("demo-alice")
    assert sent == limit

    em = world.emulator(None, session_id="one-too-many")
    for text in ["verify my identity", "4242"]:
        em.send(text)
    said = " ".join(em.send("12 April 1988").bot)
    assert render("verify_code_limit") in said and "reference is HND-" in said
    assert world.settings.otp_outbox_path.read_text().count("demo-alice") == sent
    from chalicelib.core.ids import session_key

    assert [h.reason for h in world.store.handoffs.list_for_session(session_key("one-too-many"))] == ["otp_send_limit"]
