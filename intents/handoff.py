"""Handing a chat over to a human: the ticket with the whole context, and the customer's reference.

Why one place: every intent ends the same way when it cannot help (lockout, sensitive topic,
repeated misunderstanding), and the agent's ticket must always carry the same, redacted context
bundle, whichever intent escalated.
"""
from __future__ import annotations

import base64
import hashlib
from chalicelib.core.clock import outbound_time
from chalicelib.core.models import Handoff
from chalicelib.core.pci import guard_value
from intents.dialog import ATTR_HANDOFF, ATTR_HISTORY, ATTR_LAST_TXN, ATTR_PENDING_INTENT, Decision, Turn, json_attr, now_of
from intents.replies import render


def short_ref(prefix: str, *parts: str, length: int = 6) -> str:
    """A stable, customer-readable reference derived from its inputs.

    Deterministic on purpose: Lex, SQS and Lambda retry, and a retried turn must produce the
    same reference so the conditional create finds the first record instead of making a second.
    """
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    code = base64.b32encode(digest).decode().rstrip("=")
    code = code.replace("0", "").replace("1", "").replace("O", "").replace("I", "")
    return f"{prefix}-{code[:length]}"



def escalate(turn: Turn, reason: str, message: str, extra: dict | None = None, state: str = "Fulfilled") -> Decision:
    """Record a handoff with the full context and tell the customer their reference.

    Idempotent per session, reason *and customer*: a retried turn returns the reference already
    given, while a second customer in the same session (another token, or anonymous after a
    verified one) gets a handoff of their own instead of the first customer's reference.
    """
    handoff = _find_or_create(turn, reason, extra)
    gov = turn.services.governance
    decision_id = gov.record_handoff(turn, handoff) if gov is not None else None
    session = dict(turn.session)
    session[ATTR_HANDOFF] = handoff.handoff_id
    session.pop(ATTR_PENDING_INTENT, None)
    messages = [message, render("handoff_reference", ref=handoff.handoff_id)]
    facts = {"escalated": True, "handoff_id": handoff.handoff_id, "reason": reason, "decision_id": decision_id}
    desk = getattr(turn.services, "tickets", None)
    if desk is not None:  # the ticket an agent works, routed on by Amazon Connect (chalicelib/tickets/desk.py)
        from intents.ticketing import open_ticket_for

        esc = open_ticket_for(desk, turn, handoff, decision_id, extra or {})
        session.update(esc.connect_attributes())
        messages.append(render("ticket_wait", ref=esc.ticket.ticket_id, wait=esc.wait.phrase))
        facts.update(ticket_id=esc.ticket.ticket_id, ticket_outcome=esc.outcome)
    return Decision(
        action="Close",
        intent_state=state,  # type: ignore[arg-type]
        messages=messages,
        session=session,
        facts=facts,
    )


def _find_or_create(turn: Turn, reason: str, extra: dict | None) -> Handoff:
    from chalicelib.storage.base import AlreadyExists

    store = turn.services.store
    cid = turn.identity.customer_id if turn.identity.verified else None
    for h in store.handoffs.list_for_session(turn.session_id):
        if h.reason == reason and h.customer_id == cid:
            return h
    # The first customer keeps the reference format of before (stable across deploys); a later,
    # different customer gets one derived from their id too.
    for parts in ((turn.session_id, reason), (turn.session_id, reason, cid or "anonymous")):
        handoff = Handoff(
            handoff_id=short_ref("HND", *parts),
            customer_id=cid,
            session_id=turn.session_id,
            reason=reason,
            summary=redacted(turn.transcript)[:500],  # redact() ends with the one outbound guard
            context=context_bundle(turn, extra or {}),
            channel="chat",
            created_at=now_of(turn),
        )
        try:
            return store.handoffs.create(handoff) or handoff
        except AlreadyExists:  # a retry or a concurrent duplicate: reuse it if it is this customer's
            found = store.handoffs.get(handoff.handoff_id)
            if found is not None and found.customer_id == cid:
                return found
    raise RuntimeError("handoff reference taken by another customer twice")  # sha256 collision


def redacted(text: str) -> str:
    from nlp.redact import redact

    return redact(text or "").text


def context_bundle(turn: Turn, extra: dict) -> dict:
    history = json_attr(turn.session, ATTR_HISTORY, []) or []
    bundle = {
        "intent": turn.intent_name,
        "intent_history": history[-10:] if isinstance(history, list) else [],
        "verified": turn.identity.verified,
        "verification_method": turn.identity.method,
        "last_txn_id": turn.session.get(ATTR_LAST_TXN),
        "slots": {k: redacted(v) if isinstance(v, str) else v for k, v in turn.slots.items()},
        "at": outbound_time(now_of(turn)),
    }
    bundle.update(extra)
    # The ticket an agent reads is outbound text too: handler-supplied extras (search criteria built
    # from the customer's words) pass the one guard with everything else.
    return guard_value(bundle)
