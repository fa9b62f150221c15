"""The Lex V2 code hook: one event in, one valid Lex response out, always, within the budget.

Order of work: parse (reject garbage with a logged, stable error code), resolve who is talking
from signed sources only, run the intent handler under a time budget in a worker thread, then
turn its Decision into a Lex response that fits Lex's size limits. Any failure past parsing
still answers the customer (never a blank, never a traceback in the chat).
"""
from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import time
from typing import Any

from chalicelib.core.clock import outbound_time
from chalicelib.core.ids import session_key
from chalicelib.core.pci import contains_pan
from lexv2.builders import card, close, confirm_intent, delegate, elicit_intent, elicit_slot, make_intent, text
from lexv2.events import LexEvent
from lexv2.parsing import LexEventError, parse_event
from lexv2.responses import LexResponse, Message
from chatbot.outbound import customer_shared_card, guard_attribute, guard_response
from chatbot.recognizer import extract_slots
from chatbot.transcribe import record_turn
from intents.late_outcome import open_turn, post_when_done, prepend_note
from intents.dialog import ATTR_ASKED, ATTR_HISTORY, Decision, Turn, json_attr, json_attr_refusal
from intents.multi_request import ATTR_PENDING_REQUESTS, MAX_PENDING, chain, next_request, plan, remind_at_goodbye
from intents.replies import render

logger = logging.getLogger("dispute_assistant.hook")

MAX_TRANSCRIPT_CHARS = 2000
# Session attributes we own; anything else a client sends is dropped (Lex echoes whatever we
# return, so unknown keys would otherwise grow forever and can carry injected junk).
KNOWN_SESSION_KEYS = {
    "pendingIntent", "lastTxnId", "candidates", "otherTxnIds", "fallbackCount", "noMatchCount", "intentHistory",
    "handoffRef", "identityToken", "stepUpProof", "asked", "startedAt", "unclearAnswer", "fraudAnswerTimed", "verifyUnusable",
    "holdQuestion",  # which hold question is open: "was it you?" reads a bare "no" as "not me" (intents/hold_questions.py)
    "ticketRef", "ticketQueue", "ticketPriority", "ticketSummary",  # Amazon Connect routes on these
    ATTR_PENDING_REQUESTS,  # later requests of a message that held several (intents/multi_request.py)
}
MAX_ATTR_VALUE = 1400  # 8 known keys x 1.4 KB stays under Lex's 12 KB

def _settings():
    from chalicelib.core.settings import get_settings

    return get_settings()


def _clean_session(attrs: dict[str, Any]) -> dict[str, str]:
    """Keep only our keys, cap each value, and mask any card number in them: Lex stores session
    attributes, so a PAN (or CVV, SSN, IBAN) a client or a bug put there must not be echoed back
    and kept. Values are guarded before they are cut, JSON values as values (chatbot.outbound)."""
    out = {}
    for k, v in (attrs or {}).items():
        if k in KNOWN_SESSION_KEYS and v is not None:
            refusal = json_attr_refusal(str(v))  # the guard parses JSON values: too big or deep is dropped first
            if refusal is not None:
                logger.warning("session attribute dropped", extra={"error_code": refusal, "attribute": k})
                continue
            out[k] = guard_attribute(str(v))[:MAX_ATTR_VALUE]
    return out


def _error_response(key: str, session_attributes: dict[str, str] | None = None) -> dict:
    resp = elicit_intent(None, [render(key)], session_attributes=session_attributes or {})
    return resp.fit().to_dict()


def handle_lex_event(raw: Any, services, resolver, budget_s: float | None = None) -> dict:
    """One Lex turn on a container's services (chatbot.bootstrap builds them; their ``turn_pool``
    runs the turn); whatever path answers, the reply passes the outbound guard on the way out."""
    try:
        event = parse_event(raw)
    except LexEventError as exc:
        logger.warning("rejected lex event", extra={"error_code": exc.code, "detail": str(exc)[:200]})
        return guard_response(_error_response("error_bad_event"))
    if contains_pan(event.session_id):
        # Refused before anything is keyed, stored or logged under it: a card number as a session id.
        logger.error("rejected lex event", extra={"error_code": "session_id_pan_shaped",
                                                  "session_id": session_key(event.session_id)})
        return guard_response(_error_response("error_session_id"))
    shared = customer_shared_card(event.input_transcript, *_slot_texts(event))
    response = _handle(event, services, resolver, budget_s)
    return guard_response(response, render("card_number_shared") if shared else None)


def _slot_texts(event: LexEvent) -> list[str]:
    return [t for v in (event.intent.slots or {}).values() if v is not None
            for t in (v.original, v.interpreted) if isinstance(t, str)]


def _handle(event: LexEvent, services, resolver, budget_s: float | None) -> dict:
    started = time.monotonic()
    sid = session_key(event.session_id)
    session = _clean_session(event.session_attributes)
    transcript = event.input_transcript or ""
    if len(transcript) > MAX_TRANSCRIPT_CHARS:
        logger.info("transcript too long", extra={"chars": len(transcript), "session_id": sid})
        return _error_response("error_too_long", session)

    budget = budget_s if budget_s is not None else _settings().turn_budget_s

    pool = getattr(services, "turn_pool", None)
    own_pool = pool is None  # services wired by hand: this turn gets a pool of its own
    if own_pool:
        pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="lex-turn")
    future = pool.submit(_run_turn, event, session, services, resolver)
    if own_pool:
        pool.shutdown(wait=False)  # the worker ends with the turn; an overrun is abandoned, not awaited
    remaining = max(0.1, budget - (time.monotonic() - started))
    try:
        response = future.result(timeout=remaining)
    except cf.TimeoutError:
        logger.error("turn exceeded budget", extra={"session_id": sid, "budget_s": budget,
                                                    "intent": event.intent_name})
        late = getattr(services, "late_outcomes", None)
        if late is not None:  # whatever the abandoned turn still does, the next turn tells
            future.add_done_callback(post_when_done(late, sid))
        return _error_response("error_timeout", session)
    except Exception:  # a bug or a dependency failure: the customer still gets an answer
        logger.exception("turn failed", extra={"session_id": sid, "intent": event.intent_name})
        return _error_response("error_internal", session)
    logger.info("turn", extra={"session_id": sid, "intent": event.intent_name,
                               "ms": round((time.monotonic() - started) * 1000, 1)})
    return response


def build_turn(event: LexEvent, session: dict[str, str], services, resolver) -> Turn:
    sid = session_key(event.session_id)  # the only session id anything downstream sees
    identity = resolver.resolve(event.request_attributes or {}, session, sid)
    intent = event.intent
    slots = {k: (v.interpreted if v is not None else None) for k, v in (intent.slots or {}).items()}
    original = {k: (v.original if v is not None else None) for k, v in (intent.slots or {}).items()}
    return Turn(
        session_id=sid,
        intent_name=intent.name,
        invocation_source=event.invocation_source,
        transcript=event.input_transcript or "",
        slots=slots,
        original_slots=original,
        confirmation_state=intent.confirmation_state or "None",
        session=session,
        request_attributes=dict(event.request_attributes or {}),
        identity=identity,
        services=services,
        input_mode=event.input_mode or "Text",
        now=services.clock(),
        slot_to_elicit=event.slot_to_elicit or _asked(session, intent.name),
        match_utterances=_match_utterances,
    )


def _match_utterances(utterance: str):
    """The utterance matcher handed to handlers (the fallback): no classifier, sample utterances only."""
    from chatbot.recognizer import recognise

    return recognise(utterance, use_classifier=False)


def _asked(session: dict[str, str], intent_name: str) -> str | None:
    intent, _, slot = session.get(ATTR_ASKED, "").partition(":")
    return slot if intent == intent_name and slot else None


def _run_turn(event: LexEvent, session: dict[str, str], services, resolver) -> dict:
    from intents.proactive_hold import is_opening, tell_first
    from intents.registry import handler_for

    from intents.answers import reclaim_answer
    from intents.corrections import correct_payment
    from intents.hold_questions import back_to_hold_question, step_up_aside
    from intents.prompt_answers import keep_or_switch
    from intents.vulnerability import early_person

    note, late_session = open_turn(getattr(services, "late_outcomes", None), session_key(event.session_id))
    session = {**session, **_clean_session(late_session)}  # continue from where the late turn left off
    turn = keep_or_switch(reclaim_answer(back_to_hold_question(build_turn(event, session, services, resolver))))
    history = json_attr(session, ATTR_HISTORY, [])
    if not isinstance(history, list):
        history = []
    first_turn = not history
    if not history or history[-1] != turn.intent_name:
        history = (history + [turn.intent_name])[-10:]
    turn.session[ATTR_HISTORY] = json.dumps(history, separators=(",", ":"))
    turn.session.setdefault("startedAt", outbound_time(turn.now) or "")  # a session attribute: outbound
    # A vulnerable customer is offered a person first; an opening turn starts with a payment we
    # stopped (issue 12); otherwise the hook routes the turn to its intent.
    decision = early_person(turn) or (tell_first(turn) if is_opening(turn, first_turn) else None) or step_up_aside(turn)
    answered = turn
    if decision is None:
        correction = correct_payment(turn)  # "no, the shell one": back to the intent that proposed the payment
        if correction is not None:
            decision, answered = route_turn(turn, handler_for, first=correction)
        else:
            decision, answered = route_requests_answered(turn, handler_for)
    if decision.intent_name is None and turn.intent_name != event.intent_name:
        decision.intent_name = turn.intent_name  # an answer reclaimed from an intent switch stays with its question
    _emit_metrics(turn, decision, getattr(services, "metrics", None))
    response = prepend_note(to_response(decision, event, turn).fit().to_dict(), note)
    record_turn(services, turn, answered, response)  # both sides, redacted by the recorder
    return response


def route_requests(turn: Turn, handler_for) -> Decision:
    """Route the turn, seeing every request in it: a message with several says so and starts the
    first; whenever a request finishes, the next one waiting starts in the same turn, unasked."""
    return route_requests_answered(turn, handler_for)[0]


def route_requests_answered(turn: Turn, handler_for) -> tuple[Decision, Turn]:
    """``route_requests``, and the turn that answered last (its identity is who the reply was for)."""
    planned = plan(turn)
    ack = None
    if planned is not None:
        turn, ack = planned
        turn = _clause_slots(turn)
    decision, answered = route_turn(turn, handler_for)
    if planned is not None:
        decision.messages[:0] = [ack] if ack else []
        decision.intent_name = decision.intent_name or turn.intent_name
    decision.session = decision.session or dict(turn.session)
    for _ in range(MAX_PENDING):
        following = next_request(turn, decision)
        if following is None:
            break
        turn, lead_in = following
        turn = _clause_slots(turn)
        following_decision, answered = route_turn(turn, handler_for)
        decision = chain(decision, following_decision, lead_in, turn.intent_name)
        decision.session = decision.session or dict(turn.session)
    return remind_at_goodbye(turn, decision), answered


def _clause_slots(turn: Turn) -> Turn:
    """Slots read from one request's own words, as Lex fills them from a message that is just that
    request (Lex filled the message's slots for one intent only). Dates and numbers stay unfilled:
    they need Lex's own resolution, and the handlers read them from the words anyway."""
    from intents.registry import spec_for

    spec = spec_for(turn.intent_name)
    if spec is None or turn.slots:
        return turn
    raw = extract_slots(spec, turn.transcript)
    kept = {k: v for k, v in raw.items() if not spec.slot(k).slot_type.startswith("AMAZON.")}
    return turn.with_(slots=kept, original_slots=dict(kept)) if kept else turn


MAX_REDIRECTS = 3  # a redirect loop between handlers is a bug; the customer still gets an answer


def route(turn: Turn, handler_for, first: Decision | None = None) -> Decision:
    """Run the turn's handler (or take ``first``, a step already decided, such as a correction's
    hand-over), and any intent it hands the turn to, in this same turn.

    The hook is the only router: a handler that wants another intent to answer returns a
    ``Redirect`` (intents.dialog) instead of calling that intent itself.
    """
    return route_turn(turn, handler_for, first)[0]


def route_turn(turn: Turn, handler_for, first: Decision | None = None) -> tuple[Decision, Turn]:
    """``route``, and the turn that answered (its identity is who the reply was for)."""
    decision = first if first is not None else handler_for(turn.intent_name)(turn)
    taken = []
    while decision.redirect is not None:
        if len(taken) >= MAX_REDIRECTS:
            raise RuntimeError(f"intent redirects loop at {decision.redirect.intent!r}")
        r = decision.redirect
        taken.append(r)
        target = turn.with_(intent_name=r.intent, slots=dict(r.slots), original_slots={}, slot_to_elicit=None,
                            confirmation_state="None", session=dict(r.session),
                            identity=r.identity if r.identity is not None else turn.identity,
                            invocation_source=r.invocation_source or turn.invocation_source)
        turn, decision = target, handler_for(r.intent)(target)
    for r in reversed(taken):  # innermost first, so the first hand-over's words come first
        if decision.intent_name is None:
            decision.intent_name = r.intent
        decision.messages[:0] = r.messages
        decision.facts.update(r.facts)
    return decision, turn


def _emit_metrics(turn: Turn, decision: Decision, m) -> None:
    """Containment and time-to-human, as CloudWatch EMF (silent locally unless DA_METRICS=emf), on
    the container's metrics (none wired: nothing to emit)."""
    from datetime import datetime

    if m is None or not m.enabled:
        return
    m.put("Turns", 1, Intent=turn.intent_name)
    escalated = bool(decision.facts.get("escalated"))
    if decision.action == "Close":
        m.put("ConversationContained", 0 if escalated else 1, Intent=decision.intent_name or turn.intent_name)
    if escalated:
        try:
            started = datetime.fromisoformat(turn.session.get("startedAt", ""))
            m.time_to_human(max(0.0, (turn.now - started).total_seconds()), channel="chat")
        except (TypeError, ValueError):
            pass


def to_response(decision: Decision, event: LexEvent, turn: Turn) -> LexResponse:
    session = _clean_session(decision.session if decision.session else turn.session)
    for key in (ATTR_HISTORY, "startedAt"):
        if key not in session and key in turn.session:
            session[key] = turn.session[key]
    messages: list[Message] = [text(m) for m in decision.messages if m]
    if decision.card is not None:
        messages.append(card(decision.card.title, [(b.text, b.value) for b in decision.card.buttons],
                                 subtitle=decision.card.subtitle))
    name = decision.intent_name or event.intent_name
    slots = decision.slots if decision.slots else (turn.slots if name == event.intent_name else {})
    # Only Delegate hands the confirmation back to Lex; after any other action a carried
    # "Denied"/"Confirmed" would be read again next turn as a fresh answer.
    carried = turn.confirmation_state if decision.action == "Delegate" and name == event.intent_name else "None"
    intent = make_intent(name, slots=dict(slots), confirmation_state=carried)
    action = decision.action
    if action == "ElicitSlot" and decision.slot_to_elicit:
        session[ATTR_ASKED] = f"{name}:{decision.slot_to_elicit}"
    elif action == "ConfirmIntent":
        session[ATTR_ASKED] = f"{name}:"  # no slot: the next reply answers the confirmation prompt
    else:
        session.pop(ATTR_ASKED, None)
    if action == "ElicitSlot" and not decision.slot_to_elicit:
        action = "ElicitIntent"  # a handler bug must not produce an invalid Lex response
    if action == "ElicitSlot":
        return elicit_slot(intent, decision.slot_to_elicit or "", messages or None, session)
    if action == "ConfirmIntent":
        return confirm_intent(intent, messages or None, session)
    if action == "Delegate":
        return delegate(intent, session)
    if action == "ElicitIntent":
        return elicit_intent(None, messages or [render("verify_what_next")], session)
    state = decision.intent_state if decision.intent_state in ("Fulfilled", "Failed") else "Fulfilled"
    return close(intent, state, messages or None, session)


