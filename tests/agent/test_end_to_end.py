"""End to end: a customer chats to an escalation, an agent resolves it through the API, the customer
is told (email in the outbox, DisputeStatus in chat), and nothing that left carries card data."""
from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

from tests.lex_events import make_lex_event

PAN_WORDS = ("4111 1111 1111 1111", "4111111111111111", "4111-1111-1111-1111")
CVV_DOB = re.compile(r"\b(?:cvv\D{0,6}739|14/03/1961|1961-03-14)\b", re.IGNORECASE)


def everything_that_left(world) -> list[str]:
    """Tickets (bundles and notes included), SNS messages and outbound emails, as text."""
    texts = [t.model_dump_json() for t in world.services.tickets.repo.list()]
    texts += [p.read_text(errors="replace") for p in world.settings.outbox_dir.glob("*") if p.is_file()]
    return texts


def test_given_a_customer_who_asks_for_a_person_when_an_agent_resolves_then_the_customer_is_told(world, agent_api):
    # Given Alice finds her Netflix payment (disputed as DSP-ALICE1), mentions card data, and asks for a person
    chat = world.emulator("demo-alice")
    chat.send("find the netflix payment")
    chat.send("my card is 4111 1111 1111 1111 cvv 739 and I was born 14/03/1961")
    reply = chat.send("talk to an agent")
    said = " ".join(reply.bot)
    ref = re.search(r"TKT-[A-Z2-9]{8}", said).group(0)
    assert "pick it up in" in said and chat.session_attributes["ticketRef"] == ref
    assert chat.session_attributes["ticketQueue"] == "disputes"

    # When an agent of the disputes queue claims, notes and resolves it in the customer's favour
    status, ticket = agent_api.call("GET", f"/agent/tickets/{ref}")
    assert status == 200 and ticket["context"]["case"]["case_id"] == "DSP-ALICE1"
    agent_api.call("POST", f"/agent/tickets/{ref}/claim")
    agent_api.call("POST", f"/agent/tickets/{ref}/notes", body={"text": "customer read out 4111 1111 1111 1111, cvv 739"})
    status, out = agent_api.call("POST", f"/agent/tickets/{ref}/resolve", body={
        "outcome": "resolved_won", "message": "Netflix confirmed the cancellation: the $15.49 is refunded for good."})
    assert status == 200, out

    # Then the customer's email is in the outbox, the case is won, and chat reports it
    emails = list(world.settings.outbox_dir.glob(f"resolution-{ref}.eml"))
    assert len(emails) == 1
    mail = emails[0].read_text()
    assert "refunded for good" in mail and "text/html" in mail and ref in mail
    assert world.store.cases.get("demo-alice", "DSP-ALICE1").state.value == "resolved_won"
    status_reply = " ".join(chat.send("what is the status of DSP-ALICE1").bot)
    assert "resolved won" in status_reply.lower()

    # And no ticket, bundle, notification or email carries the card number, CVV or date of birth
    for text in everything_that_left(world):
        assert not any(p in text for p in PAN_WORDS), text[:300]
        assert not CVV_DOB.search(text), CVV_DOB.search(text).group(0)


def talk_to_agent_event():
    return make_lex_event(intent="TalkToAgent", slots={}, transcript="talk to an agent", source="FulfillmentCodeHook",
                          state="ReadyForFulfillment", session_id="s-replay")


def test_given_the_same_escalation_delivered_three_times_then_one_ticket_and_one_notification(world):
    refs = {world.hook(talk_to_agent_event())["sessionState"]["sessionAttributes"]["ticketRef"] for _ in range(3)}
    assert len(refs) == 1 and len(world.services.tickets.repo.list()) == 1
    assert len(list(world.settings.outbox_dir.glob("*.sns.json"))) == 1


def test_given_the_same_escalation_delivered_eight_times_concurrently_then_one_ticket_and_one_notification(world):
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: world.hook(talk_to_agent_event()), range(8)))
    refs = {r["sessionState"]["sessionAttributes"].get("ticketRef") for r in replies}
    assert len(refs) == 1 and None not in refs, json.dumps(replies[0])[:500]
    assert len(world.services.tickets.repo.list()) == 1
    assert len(list(world.settings.outbox_dir.glob("*.sns.json"))) == 1
