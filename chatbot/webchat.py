"""The local web chat: a browser in front of the Lex emulator (make run).

Only served when ``settings.local_channel`` is on, because choosing "signed in as demo-alice"
mints a real identity token: that is the authenticated channel's job, never a public API's.
"""
from __future__ import annotations

import html
import re
import threading
from collections import OrderedDict
from pathlib import Path

from chalicelib.core.pci import guard_value
from chatbot.emulator import LexEmulator, otp_note
from intents.replies import render

PAGE = Path(__file__).resolve().parent / "web" / "chat.html"
GREETING_MARK = "{{greeting}}"
MAX_SESSIONS = 500
OPENED_WITH = "ExplainHold"  # the intent an opening turn that told the customer something ends in
MAX_TEXT = 5000
_SESSION_RE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class ChatError(ValueError):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class WebChat:
    """``factory(customer)`` makes a session's emulator; ``services`` (the container's chat services)
    hold the local OTP outbox that the page's side panel reads."""

    def __init__(self, factory, services):
        self._factory = factory
        self._services = services
        self._sessions: OrderedDict[str, tuple[str | None, LexEmulator]] = OrderedDict()
        self._lock = threading.Lock()

    def page(self) -> str:
        """The page with the greeting filled in on the server: the assistant speaks first, in words
        from the reply catalogue (reviewed like every other sentence), even before any script runs."""
        greeting = html.escape(render("webchat_greeting"), quote=True)
        return PAGE.read_text(encoding="utf-8").replace(GREETING_MARK, greeting)

    def open(self, body) -> dict:
        """The page's opening turn for a signed-in customer: an empty first message, so that a payment
        we held is raised before they type (intents/proactive_hold.py). Only a turn that told them
        something (ExplainHold's question) starts the session; otherwise the session is dropped and the
        page keeps its greeting, so the opening never costs the customer a fallback or a turn."""
        if not isinstance(body, dict):
            raise ChatError(400, "body must be a JSON object with 'customer'")
        customer = body.get("customer")
        if not isinstance(customer, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", customer):
            raise ChatError(400, "'customer' must be a signed-in customer id")
        emulator = self._factory(customer)
        result = emulator.send("")
        if result.intent != OPENED_WITH or not result.bot:
            return {"session_id": None, "turn": None, "otp": None}
        with self._lock:
            self._sessions[emulator.session_id] = (customer, emulator)
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return {"session_id": emulator.session_id, "turn": guard_value(result.as_json()), "otp": None}

    def turn(self, body) -> dict:
        if not isinstance(body, dict):
            raise ChatError(400, "body must be a JSON object with 'text'")
        text = body.get("text")
        if not isinstance(text, str):
            raise ChatError(400, "'text' must be a string")
        if len(text) > MAX_TEXT:
            raise ChatError(413, f"'text' is longer than {MAX_TEXT} characters")
        customer = body.get("customer")
        if customer is not None and (not isinstance(customer, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", customer)):
            raise ChatError(400, "'customer' must be a customer id")
        session_id = body.get("session_id")
        if session_id is not None and (not isinstance(session_id, str) or not _SESSION_RE.match(session_id)):
            raise ChatError(400, "'session_id' is not a valid session id")
        with self._lock:
            entry = self._sessions.get(session_id) if session_id else None
            if entry is None or entry[0] != customer:
                emulator = self._factory(customer)
                session_id = emulator.session_id
                self._sessions[session_id] = (customer, emulator)
                while len(self._sessions) > MAX_SESSIONS:
                    self._sessions.popitem(last=False)
            else:
                emulator = entry[1]
                self._sessions.move_to_end(session_id)
        result = emulator.send(text)
        # The page shows the customer's own words back too: they pass the same guard as the bot's.
        turn = guard_value(result.as_json())
        return {"session_id": session_id, "turn": turn, "otp": self._otp(emulator, result)}

    def _otp(self, emulator: LexEmulator, result) -> str | None:
        note = otp_note(self._services, emulator, result)
        return note.rsplit(" ", 1)[-1] if note else None
