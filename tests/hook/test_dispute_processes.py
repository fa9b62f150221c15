"""The same confirmed FileDispute turn in 8 processes (8 Lambda containers on one SQLite file):
one case, one decision, and every customer gets the same reply (issue 8.5)."""
from __future__ import annotations

import multiprocessing

from tests.lex_events import make_lex_event
from tests.support.races import race_processes
from tests.world import NOW, World

PROCESSES = 8


def _event(token_attrs: dict) -> dict:
    return make_lex_event(
        intent="FileDispute",
        slots={"TransactionRef": "txn-alice-unrec", "DisputeReason": "unauthorised", "DisputedAmount": None,
               "MerchantContacted": None, "Description": "not me", "Change": None},
        transcript="yes", source="FulfillmentCodeHook", confirmation_state="Confirmed", state="ReadyForFulfillment",
        request_attributes=token_attrs, session_id="same-turn")


def _container(settings, event, barrier, out) -> None:
    """One container: its own store handle and services on the shared file, the world's fixed clock."""
    from chalicelib.storage.sqlite import SqliteStore
    from chatbot.hook import handle_lex_event
    from chatbot.bootstrap import build_services

    services, resolver = build_services(settings, store=SqliteStore(settings.sqlite_path), clock=lambda: NOW)
    barrier.wait()
    resp = handle_lex_event(event, services, resolver, budget_s=60)
    out.put(tuple(m.get("content", "") for m in resp.get("messages", [])))


def test_same_confirmed_turn_in_eight_processes(tmp_path):
    """Given Alice's confirmed dispute of an unrecognised payment, When the same fulfilment turn runs
    in 8 processes at once, Then all 8 replies are identical and say it was filed, one case exists,
    and the log holds one file_dispute decision, the one every reply acted on."""
    world = World(tmp_path)
    event = _event(world.token("demo-alice"))
    # forkserver: each container starts clean, as a Lambda container does (the turn pool belongs to
    # the container's services, so a child never inherits one whose threads did not survive a fork).
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["chatbot.hook", "chatbot.bootstrap", "tests.hook.test_dispute_processes"])
    replies = race_processes(ctx, PROCESSES, _container, world.settings, event, timeout_s=120)

    cases = [c for c in world.store.cases.list_for_customer("demo-alice") if c.txn_id == "txn-alice-unrec"]
    assert len(cases) == 1
    assert len(set(replies)) == 1, replies
    assert cases[0].case_id in " ".join(replies[0])
    decisions = [d for d in world.services.governance.log.iter_decisions() if d.action == "file_dispute"]
    assert len(decisions) == 1 and decisions[0].outcome == "allow"
    assert world.services.governance.log.verify().ok
