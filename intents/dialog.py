"""Dialog primitives shared by every intent handler.

Handlers receive a ``Turn`` (a read-only view of one Lex code-hook call, already parsed and with
the caller's verified identity resolved) and return a ``Decision``: which slots to set, what the
next dialog action is, and what to say. They never build Lex JSON or mutate the event; the hook
turns a Decision into a Lex V2 response (chatbot/hook.py). This keeps handlers testable without
Lex and makes it impossible for one to forget a required response field. A step's card and
buttons are the Lex protocol's own models (``lexv2.responses``), so there is one definition of a
button and of the intent states a code hook may set, not a look-alike to keep in step.

Handlers never call other handlers: one that wants another intent to answer (the fallback that
understood the customer after all, the identity check that resumes what the customer asked for)
returns a Decision carrying a ``Redirect``, and the hook, the only router, runs the target in the
same turn. That keeps the intents a flat set of leaves with no import circle through the registry.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Literal

from chalicelib.identity import Identity
from lexv2.responses import Button, ImageResponseCard as Card  # noqa: F401  (the handlers' card and buttons)
from lexv2.wire import ResponseIntentState

ActionType = Literal["ElicitSlot", "ConfirmIntent", "Delegate", "ElicitIntent", "Close"]

# Session attribute keys (Lex session attributes are str -> str).
ATTR_PENDING_INTENT = "pendingIntent"
ATTR_LAST_TXN = "lastTxnId"
ATTR_CANDIDATES = "candidates"
ATTR_OTHERS = "otherTxnIds"  # the payments offered beside the chosen one ("no, the other one")
ATTR_FALLBACKS = "fallbackCount"
ATTR_NO_MATCH = "noMatchCount"
ATTR_HISTORY = "intentHistory"
ATTR_HANDOFF = "handoffRef"
ATTR_ASKED = "asked"  # "Intent:Slot" the bot last asked for (Lex does not always echo it)


@dataclass
class Redirect:
    """Ask the hook to hand this turn to another intent, which answers in the same turn.

    The target starts fresh (no original slots, nothing asked yet, confirmation "None"); ``slots``,
    ``session`` and ``identity`` are what it sees. ``messages`` go before the target's own and
    ``facts`` are added to the target's facts (they win on a clash)."""

    intent: str
    slots: dict[str, str | None] = field(default_factory=dict)
    session: dict[str, str] = field(default_factory=dict)
    identity: Identity | None = None  # None: the caller's identity as resolved for this turn
    invocation_source: str | None = None  # None: the turn's own
    messages: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Decision:
    action: ActionType
    messages: list[str] = field(default_factory=list)
    intent_name: str | None = None  # None: the turn's intent; set to switch intents
    slot_to_elicit: str | None = None
    slots: dict[str, str | None] = field(default_factory=dict)  # full slot values after this turn
    intent_state: ResponseIntentState = "InProgress"
    session: dict[str, str] = field(default_factory=dict)  # session attributes after this turn
    card: Card | None = None
    # Free-form facts for logs and tests (never sent to Lex): e.g. {"case_id": ..., "escalated": True}
    facts: dict[str, Any] = field(default_factory=dict)
    # Set by a handler that hands the turn on; the hook then runs the target and ignores the rest.
    redirect: Redirect | None = None

    @classmethod
    def redirect_to(cls, redirect: Redirect) -> "Decision":
        """A step that only hands the turn on (its action is never sent to Lex)."""
        return cls(action="Delegate", redirect=redirect)


@dataclass
class Turn:
    session_id: str
    intent_name: str
    invocation_source: str  # DialogCodeHook | FulfillmentCodeHook
    transcript: str
    slots: dict[str, str | None]  # interpreted values (None when empty)
    original_slots: dict[str, str | None]
    confirmation_state: str  # Confirmed | Denied | None
    session: dict[str, str]
    request_attributes: dict[str, str]
    identity: Identity
    services: "Services"
    input_mode: str = "Text"
    now: datetime | None = None
    slot_to_elicit: str | None = None  # what the bot last asked for (from the event's dialogAction)
    # The bot's own utterance matcher (text -> guess with .intent and .confident, or None), given
    # by the hook: the fallback uses it to recognise what Lex missed without importing the bot.
    match_utterances: Callable[[str], Any] | None = None

    def slot(self, name: str) -> str | None:
        value = self.slots.get(name)
        if value is None:
            return None
        value = str(value).strip()
        return value or None

    def with_(self, **changes) -> "Turn":
        data = dict(self.__dict__)
        data.update(changes)
        return Turn(**data)


@dataclass
class Services:
    """Everything a handler may touch, injected so tests can swap any of it."""

    store: Any
    step_up: Any  # chalicelib.identity.StepUpService
    clock: Callable[[], datetime]
    governance: Any = None  # intents.governance_gate.Governance
    triage: Any = None  # callable text -> triage result (nlp), optional


def now_of(turn: Turn) -> datetime:
    """The turn's clock reading (the hook stamps it once), or the services' clock for a bare turn."""
    return turn.now or turn.services.clock()


# Session attributes are client-controlled: a value is parsed only if it is small and shallow.
# Ours are flat lists and one-level objects under 1.4 KB; json.loads recurses once per level, so
# a 10,000-deep array raised RecursionError (not ValueError) on every turn of that session.
MAX_JSON_ATTR_CHARS = 16_384
MAX_JSON_ATTR_DEPTH = 16


def json_depth(raw: str, limit: int) -> int:
    """Nesting depth of a JSON text, counted without recursion and stopping once past ``limit``
    (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in raw:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif ch in "]}":
            depth -= 1
    return deepest


def json_attr_refusal(raw: Any) -> str | None:
    """The stable code for a session attribute value too big or too deep to parse, or None."""
    if not isinstance(raw, str):
        return None
    if len(raw) > MAX_JSON_ATTR_CHARS:
        return "session_attr_too_large"
    if json_depth(raw, MAX_JSON_ATTR_DEPTH) > MAX_JSON_ATTR_DEPTH:
        return "session_attr_too_deep"
    return None


def json_attr(session: dict[str, str], key: str, default: Any = None) -> Any:
    """Read a JSON session attribute defensively: the client can send anything, so a value that
    is not JSON, too large or too deep reads as ``default``."""
    raw = session.get(key)
    if not raw:
        return default
    if json_attr_refusal(raw) is not None:
        return default
    try:
        return json.loads(raw)
    except (TypeError, ValueError, RecursionError):
        return default


def set_json_attr(session: dict[str, str], key: str, value: Any) -> None:
    if value is None:
        session.pop(key, None)
    else:
        session[key] = json.dumps(value, separators=(",", ":"))
