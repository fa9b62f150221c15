"""End to end (issue 12): a risky authorisation on the stream is held, the customer gets a notice,
opens the chat, is told first, and either releases it (yes, after step-up) or has the card blocked
(no); every step is in the decision log and the chain verifies."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.fraud.generator import generate_day, kinesis_records
from chalicelib.fraud.service import build_processor, handle_kinesis_event
from chalicelib.governance.metrics import GovernanceMetrics
from chalicelib.outbox import LocalOutbox
from tests.world import ANCHOR, NOW, World

YESTERDAY = NOW.date() - timedelta(days=1)


@pytest.fixture
def held(tmp_path):
    """Bob's risky card-not-present payment of yesterday, streamed through the Kinesis handler."""
    world = World(tmp_path)
    outbox = tmp_path / "outbox"
    processor = build_processor(world.settings, store=world.store, decision_log=world.services.governance.log,
                                notifier=LocalOutbox(outbox), metrics=GovernanceMetrics(sink=lambda line: None,
                                                                                        enabled=True))
    # At home rather than abroad: held (far above his usual spend, a first crypto purchase) with a risk
    # the policy lets a verified customer release himself (below hold_release.max_risk_score).
    risky = [e.model_copy(update={"country": "US"}) for e in generate_day("demo-bob", YESTERDAY, anchor=ANCHOR)
             if e.txn_id.endswith("-risk")]
    response = handle_kinesis_event({"Records": kinesis_records(risky)}, processor)
    assert response == {"batchItemFailures": []}
    return world, outbox, risky[0]


def test_a_held_payment_reaches_the_outbox_and_the_chat_starts_with_it_and_yes_releases_it(held):
    world, outbox, event = held
    # Given the hold the stream made, and the notice it sent
    fd = world.store.fraud.get_for_transaction("demo-bob", event.txn_id)
    assert fd is not None and fd.action.value == "hold" and not fd.released
    notices = [json.loads(p.read_text()) for p in outbox.glob("*.sms.json")]
    assert len(notices) == 1 and "$1,849.00" in notices[0]["text"] and notices[0]["to"].endswith("0101")
    chat = world.emulator("demo-bob")
    # When Bob opens the chat with a plain hi
    opening = chat.send("hi")
    # Then the assistant starts with that payment and asks if it was him
    assert opening.bot == ["We held a $1,849.00 payment at Coinbase. Was it you?"]
    assert [b["text"] for b in opening.buttons][:2] == ["Yes, it was me", "No, it wasn't me"]
    # And when he says it was him and verifies, the payment is released
    assert chat.send("yes it was me").intent == "VerifyIdentity"
    chat.send(world.store.cards.list_for_customer("demo-bob")[0].last4)
    chat.send("3 November 1975")
    done = chat.send(world.latest_code("demo-bob"))
    assert done.dialog_action == "Close" and "released" in " ".join(done.bot)
    assert world.store.fraud.get_for_transaction("demo-bob", event.txn_id).released
    # And the hold, the telling and the release are in the decision log, whose chain verifies
    log = world.services.governance.log
    actions = [d.action for d in log.iter_decisions()]
    assert "fraud_action" in actions and "fraud_hold_told" in actions and len(actions) >= 3
    assert log.verify().ok
    # And a second chat does not ask again
    assert "Was it you?" not in " ".join(world.emulator("demo-bob").send("hi").bot)


def test_no_it_was_not_me_blocks_the_card_and_opens_the_fraud_handoff(held):
    world, outbox, event = held
    # Given one more payment on the same card since the held one (a small authorisation this morning)
    later = event.model_copy(update={"event_id": "evt_after_risk_01", "txn_id": "txn-bob-after-risk",
                                     "occurred_at": NOW - timedelta(hours=7), "sequence": event.sequence + 1,
                                     "amount_minor": 2_350, "mcc": "5411", "merchant_name": "Whole Foods",
                                     "merchant_descriptor": "WHOLEFDS MKT 10234", "cnp": None, "channel": "card_present"})
    processor = build_processor(world.settings, store=world.store, decision_log=world.services.governance.log,
                                notifier=LocalOutbox(outbox))
    assert handle_kinesis_event({"Records": kinesis_records([later], start=9)}, processor) == {"batchItemFailures": []}
    chat = world.emulator("demo-bob")
    chat.send("hi")
    # When Bob says it was not him and asks for the card to be blocked
    reported = chat.send("no it wasn't me")
    blocked = chat.send("yes, block my card")
    # Then the payment stays held, the fraud team has a handoff, and the card is really blocked
    assert not world.store.fraud.get_for_transaction("demo-bob", event.txn_id).released
    assert "HND-" in " ".join(reported.bot)
    handoffs = [h for h in world.store.handoffs.list_for_session(chat_key(chat)) if h.reason == "fraud_reported_by_customer"]
    assert len(handoffs) == 1 and event.txn_id in json.dumps(handoffs[0].context, default=str)
    card = next(c for c in world.store.cards.list_for_customer("demo-bob") if c.card_id == event.card_id)
    assert card.status.value == "blocked"
    assert "blocked your card ending" in " ".join(blocked.bot)
    # And an unauthorised-transaction dispute is offered for the other payment at risk
    assert "one more payment on that card since then ($23.50 at Whole Foods)" in " ".join(blocked.bot)
    # And the block is a decision in the log, whose chain verifies (audit verify too)
    log = world.services.governance.log
    assert any(d.action == "card_block" and d.outcome == "blocked" for d in log.iter_decisions())
    assert log.verify().ok
    import io

    from chalicelib.governance.audit import main as audit_main

    assert audit_main(["verify"], log=log, out=io.StringIO()) == 0


def chat_key(chat):
    from chalicelib.core.ids import session_key

    return session_key(chat.session_id)


def _verify_alice(world, chat):
    chat.send("4242")
    chat.send("12 April 1988")
    return chat.send(world.latest_code("demo-alice"))


def test_the_generated_day_holds_one_payment_alice_can_release_and_one_that_goes_to_a_person(tmp_path):
    """Given yesterday's generated day for Alice streamed as it is (the demo's `make replay-events`) /
    When she opens the chat, says it was her and verifies, then opens a second chat and does the same /
    Then the first chat is about the newest hold (a hotel bill abroad, risk below the release limit)
    and releases it; the second is about the crypto purchase (three rules, above the limit) and goes to
    the fraud team with a reference, still held."""
    world = World(tmp_path)
    processor = build_processor(world.settings, store=world.store, decision_log=world.services.governance.log,
                                notifier=LocalOutbox(tmp_path / "outbox"))
    events = generate_day("demo-alice", YESTERDAY, anchor=ANCHOR)
    assert handle_kinesis_event({"Records": kinesis_records(events)}, processor) == {"batchItemFailures": []}
    trip, risk = (next(e for e in events if e.txn_id.endswith(s)) for s in ("-trip", "-risk"))
    held = {t: world.store.fraud.get_for_transaction("demo-alice", t) for t in (trip.txn_id, risk.txn_id)}
    assert {t: fd.action.value for t, fd in held.items()} == {trip.txn_id: "hold", risk.txn_id: "hold"}
    assert held[trip.txn_id].risk_score < 0.80 <= held[risk.txn_id].risk_score
    # When Alice opens the chat, says it was her and verifies: the hotel bill is released
    chat = world.emulator("demo-alice")
    assert chat.send("hi").bot == ["We held a $2,149.00 payment at Marriott. Was it you?"]
    chat.send("yes it was me")
    done = _verify_alice(world, chat)
    assert done.dialog_action == "Close" and "released" in " ".join(done.bot)
    assert world.store.fraud.get_for_transaction("demo-alice", trip.txn_id).released
    # And in a second chat, the crypto purchase goes to a person
    chat = world.emulator("demo-alice")
    assert chat.send("hi").bot == ["We held a $1,849.00 payment at Coinbase. Was it you?"]
    chat.send("yes it was me")
    escalated = " ".join(_verify_alice(world, chat).bot)
    assert "passed it to our fraud team" in escalated and "HND-" in escalated
    assert not world.store.fraud.get_for_transaction("demo-alice", risk.txn_id).released
