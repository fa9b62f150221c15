"""The chat transcript reaches the agent: every turn of the conversation, both sides, redacted and
timed, in the ticket's context bundle; never another customer's turns from the same session."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from chalicelib.core.ids import session_key
from chalicelib.core.pci import find_pans
from chalicelib.tickets.context_bundle import validate_bundle
from tests.world import World

TKT = re.compile(r"TKT-[A-Z2-9]{8}")


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def _ticket(world, reply):
    ref = TKT.search(" ".join(reply.bot)).group(0)
    return world.services.tickets.repo.get(ref)


def test_the_agent_reads_the_whole_chat_both_sides_redacted(world):
    """Given Alice looks up a payment, types her card number and CVV, then asks for a person, When
    the ticket is opened, Then its bundle holds every turn in order (her words and the assistant's
    replies, the last one her request), each with a whole-second time, and no card number or CVV."""
    chat = world.emulator("demo-alice")
    first = chat.send("find the netflix payment")
    chat.send("my card is 4111 1111 1111 1111 cvv 739")
    reply = chat.send("talk to an agent")
    bundle = _ticket(world, reply).context
    validate_bundle(bundle)
    conv = bundle["conversation"]
    said = [(m["role"], m["text"]) for m in conv["messages"]]
    assert said[0] == ("customer", "find the netflix payment")
    assert said[1] == ("assistant", first.bot[0])
    assert said[-1] == ("customer", "talk to an agent")
    assert {r for r, _ in said} == {"customer", "assistant"} and len(said) >= 5
    assert all(m["at"] == "2026-11-18T15:00:00Z" for m in conv["messages"])
    text = json.dumps(conv)
    assert find_pans(text) == [] and "4111 1111" not in text and not re.search(r"(?i)cvv\W{0,3}739", text)
    assert conv["window"]["omitted_turns"] == 0


def test_a_second_customer_in_the_same_session_never_sees_the_first_ones_chat(world):
    """Given Alice chats in a session and Bob then signs in to the same session, When Bob asks for a
    person, Then Bob's ticket holds his own turns only, and Alice's words are in none of it."""
    alice = world.emulator("demo-alice", session_id="shared-kiosk")
    alice.send("find the netflix payment")
    alice.send("I was in Lisbon on holiday then")
    bob = world.emulator("demo-bob", session_id="shared-kiosk")
    reply = bob.send("talk to an agent")
    conv = _ticket(world, reply).context["conversation"]
    assert [(m["role"], m["text"]) for m in conv["messages"]] == [("customer", "talk to an agent")]
    assert "Lisbon" not in json.dumps(conv) and "netflix" not in json.dumps(conv).lower()


def test_the_store_holds_only_redacted_text_and_forgets_it(world):
    """Given a turn in which the customer typed a card number, When the stored transcript is read,
    Then the number is masked there too, and after the retention time the turns are gone."""
    chat = world.emulator("demo-alice", session_id="s-retention")
    chat.send("card 4111-1111-1111-1111 was charged twice")
    store = world.services.transcripts.store
    sid = session_key("s-retention")
    stored = store.read(sid, "demo-alice", world.now)
    assert stored and all(find_pans(t.text) == [] for t in stored) and "4111-1111" not in stored[0].text
    later = world.now + timedelta(hours=world.settings.transcript_ttl_hours, seconds=1)
    assert store.read(sid, "demo-alice", later) == []


def test_a_very_long_chat_still_escalates_with_the_most_recent_turns(world):
    """Given a session that already holds 300 long turns of Alice's (far more than an escalation
    message can carry), When she asks for a person, Then the ticket opens and its bundle holds the
    most recent turns within the window, her request last."""
    from chalicelib.tickets.context_bundle import MAX_TRANSCRIPT_CHARS, MAX_TRANSCRIPT_TURNS

    recorder = world.services.transcripts
    sid = session_key("s-long")
    for i in range(150):
        recorder.exchange(sid, "demo-alice", f"question {i} " + "q" * 1900, "demo-alice", [f"answer {i} " + "a" * 1900],
                          world.now)
    reply = world.emulator("demo-alice", session_id="s-long").send("talk to an agent")
    conv = _ticket(world, reply).context["conversation"]
    texts = [m["text"] for m in conv["messages"]]
    assert texts[-1] == "talk to an agent" and "answer 149" in texts[-2]
    assert len(texts) <= MAX_TRANSCRIPT_TURNS and sum(map(len, texts)) <= MAX_TRANSCRIPT_CHARS
