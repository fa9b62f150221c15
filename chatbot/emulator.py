"""A local stand-in for Amazon Lex V2: the same events, the same dialog rules, no AWS.

It plays Lex's part: recognises the intent of a new utterance (the intents' sample utterances,
plus the nlp classifier when present), fills slots the way Lex's slot resolution would (dates to
ISO, numbers, custom slot-type synonyms), keeps the dialog state and session attributes across
turns, and calls the code hook with genuine-shaped V2 events: DialogCodeHook on every turn,
FulfillmentCodeHook once the intent is ready. The hook's response drives the next turn exactly
as Lex would read it (ElicitSlot, ConfirmIntent, Delegate, ElicitIntent, Close).
"""
from __future__ import annotations

import json
import re
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from chalicelib.core.clock import utcnow
from chatbot.recognizer import extract_slots, recognise
from intents.spec import IntentSpec, SlotSpec

BOT = {"id": "LOCALBOT01", "name": "DisputeAssistant", "aliasId": "TSTALIASID", "aliasName": "TestBotAlias",
       "localeId": "en_US", "version": "DRAFT"}
SWITCH_SCORE = 0.55  # how sure the recogniser must be to leave a slot prompt for another intent


@dataclass
class TurnResult:
    user: str
    bot: list[str]
    intent: str | None
    intent_state: str | None
    dialog_action: str | None
    slot_to_elicit: str | None = None
    buttons: list[dict] = field(default_factory=list)
    slots: dict[str, str | None] = field(default_factory=dict)
    events: int = 0

    def as_json(self) -> dict:
        return {
            "user": self.user, "bot": self.bot, "intent": self.intent, "intent_state": self.intent_state,
            "dialog_action": self.dialog_action, "slot_to_elicit": self.slot_to_elicit, "buttons": self.buttons,
            "slots": self.slots,
        }


def _slot(original: str, interpreted: str | None) -> dict:
    value = interpreted if interpreted is not None else original
    return {"shape": "Scalar", "value": {"originalValue": original, "interpretedValue": value,
                                         "resolvedValues": [value] if interpreted is not None else []}}


class LexEmulator:
    def __init__(self, hook: Callable[[dict], dict], specs: list[IntentSpec], session_id: str | None = None,
                 request_attributes: dict[str, str] | None = None, today: Callable[[], datetime] | None = None,
                 use_classifier: bool = True):
        self.hook = hook
        self.specs = {s.name: s for s in specs}
        self.slot_types = {st.name: st for s in specs for st in s.slot_types}
        self.session_id = session_id or f"local-{uuid.uuid4().hex[:12]}"
        self.request_attributes = dict(request_attributes or {})
        self.session_attributes: dict[str, str] = {}
        self.intent: str | None = None
        self.slots: dict[str, dict | None] = {}
        self.intent_state: str | None = None
        self.confirmation = "None"
        self.action: str | None = None
        self.slot_to_elicit: str | None = None
        self.today = today or utcnow
        self.use_classifier = use_classifier

    # ----------------------------------------------------------------- slot resolution
    def resolve_value(self, slot: SlotSpec, text: str) -> str | None:
        """What Lex would put in interpretedValue, or None when the text is not a value."""
        raw = text.strip()
        if not raw:
            return None
        t = slot.slot_type
        if t == "AMAZON.Date":
            from nlp.entities import parse_date_phrase

            d = parse_date_phrase(raw, self.today().date())
            return d.isoformat() if d else None
        if t == "AMAZON.Number":
            m = re.search(r"-?\d[\d,]*(?:\.\d+)?", raw)
            return m.group(0).replace(",", "") if m else None
        if t in ("AMAZON.AlphaNumeric", "AMAZON.FreeFormInput"):
            return raw
        st = self.slot_types.get(t)
        if st is None:
            return raw
        return self._resolve_custom(st, raw)

    @staticmethod
    def _resolve_custom(st, raw: str) -> str | None:
        low = raw.lower().strip(" .!?")
        for v in st.values:
            if low == v.value.lower() or low in (s.lower() for s in v.synonyms):
                return v.value
        for v in st.values:
            for s in [v.value, *v.synonyms]:
                if re.search(rf"\b{re.escape(s.lower())}\b", low):
                    return v.value
        return raw if st.resolution == "ORIGINAL_VALUE" else None

    # ----------------------------------------------------------------- events
    def _event(self, source: str, transcript: str, proposed: dict | None = None) -> dict:
        intent = {"name": self.intent, "slots": self.slots, "state": self.intent_state or "InProgress",
                  "confirmationState": self.confirmation}
        ev: dict[str, Any] = {
            "messageVersion": "1.0",
            "invocationSource": source,
            "inputMode": "Text",
            "responseContentType": "text/plain; charset=utf-8",
            "sessionId": self.session_id,
            "inputTranscript": transcript,
            "bot": BOT,
            "interpretations": [{"intent": intent, "nluConfidence": 1.0 if self.intent != "FallbackIntent" else None,
                                 "interpretationSource": "Lex"}],
            "sessionState": {"sessionAttributes": dict(self.session_attributes), "activeContexts": [], "intent": intent,
                             "originatingRequestId": str(uuid.uuid4())},
            "requestAttributes": dict(self.request_attributes),
            "transcriptions": [{"transcription": transcript, "transcriptionConfidence": 1.0,
                                "resolvedContext": {"intent": self.intent}, "resolvedSlots": {}}],
        }
        if ev["interpretations"][0]["nluConfidence"] is None:
            del ev["interpretations"][0]["nluConfidence"]
        if self.action == "ElicitSlot" and self.slot_to_elicit:
            ev["sessionState"]["dialogAction"] = {"type": "ElicitSlot", "slotToElicit": self.slot_to_elicit}
        if proposed:
            ev["proposedNextState"] = proposed
        return ev

    def _start_intent(self, name: str, text: str) -> None:
        spec = self.specs[name]
        self.intent, self.intent_state, self.confirmation = name, "InProgress", "None"
        self.slots = {s.name: None for s in spec.slots}
        for k, v in extract_slots(spec, text).items():
            if k in self.slots:
                self.slots[k] = _slot(v, self.resolve_value(spec.slot(k), v) or v)

    def _recognise(self, text: str) -> str:
        guess = recognise(text, use_classifier=self.use_classifier)
        if guess and guess.confident and guess.intent in self.specs:
            return guess.intent
        return "FallbackIntent"

    def send(self, text: str) -> TurnResult:
        text = text if isinstance(text, str) else str(text)
        events = 0
        if self.action == "ElicitSlot" and self.intent in self.specs and self.slot_to_elicit:
            spec = self.specs[self.intent]
            try:
                slot = spec.slot(self.slot_to_elicit)
            except KeyError:
                slot = None
            value = self.resolve_value(slot, text) if slot else None
            guess = recognise(text, use_classifier=self.use_classifier)
            strict = slot is not None and slot.slot_type not in ("AMAZON.FreeFormInput", "AMAZON.AlphaNumeric") and not (
                self.slot_types.get(slot.slot_type) and self.slot_types[slot.slot_type].resolution == "ORIGINAL_VALUE")
            switching = (guess and guess.confident and guess.intent != self.intent and guess.intent in self.specs
                         and guess.intent not in ("FallbackIntent", "VerifyIdentity")
                         and guess.score >= SWITCH_SCORE and (value is None or not strict or guess.source == "utterances"))
            if switching:
                self._start_intent(guess.intent, text)
            elif slot is not None:
                self.slots[slot.name] = _slot(text, value if value is not None else text)
        elif self.action == "ConfirmIntent" and self.intent in self.specs:
            # Lex's own confirmation reading is a word search ("no, that wasn't me" is Denied):
            # played naively here so the handlers' re-reading of the transcript is what gets tested.
            value = self._resolve_custom(self.slot_types["YesNo"], text.strip()) if text.strip() else None
            answer = {"yes": True, "no": False}.get(value or "")
            guess = recognise(text, use_classifier=self.use_classifier)
            if answer is None and guess and guess.confident and guess.intent != self.intent and guess.score >= SWITCH_SCORE:
                self._start_intent(guess.intent, text)
            else:
                self.confirmation = {True: "Confirmed", False: "Denied", None: "None"}[answer]
        else:
            self._start_intent(self._recognise(text), text)

        response = self.hook(self._event("DialogCodeHook", text))
        events += 1
        messages = list(response.get("messages") or [])
        response, extra_msgs, n = self._follow(response, text)
        messages += extra_msgs
        events += n
        return self._result(text, response, messages, events)

    def _follow(self, response: dict, text: str) -> tuple[dict, list, int]:
        """Apply the hook's dialog action; play Lex's own part for Delegate."""
        calls = 0
        extra: list = []
        for _ in range(3):
            self._absorb(response)
            if self.action != "Delegate":
                break
            spec = self.specs.get(self.intent or "")
            if spec is None:
                break
            missing = [s for s in spec.slots if s.required and not self.slots.get(s.name)]
            if missing:
                self.action, self.slot_to_elicit = "ElicitSlot", missing[0].name
                extra.append({"contentType": "PlainText", "content": missing[0].prompt})
                response = {"sessionState": {"dialogAction": {"type": "ElicitSlot", "slotToElicit": missing[0].name},
                                             "intent": {"name": self.intent, "slots": self.slots, "state": "InProgress"}}}
                break
            if spec.confirmation_prompt and self.confirmation == "None":
                self.action = "ConfirmIntent"
                extra.append({"contentType": "PlainText", "content": spec.confirmation_prompt})
                response = {"sessionState": {"dialogAction": {"type": "ConfirmIntent"},
                                             "intent": {"name": self.intent, "slots": self.slots, "state": "InProgress"}}}
                break
            self.intent_state = "ReadyForFulfillment"
            response = self.hook(self._event("FulfillmentCodeHook", text))
            calls += 1
            extra += list(response.get("messages") or [])
        return response, extra, calls

    def _absorb(self, response: dict) -> None:
        state = response.get("sessionState") or {}
        action = state.get("dialogAction") or {}
        self.action = action.get("type")
        self.slot_to_elicit = action.get("slotToElicit")
        self.session_attributes = dict(state.get("sessionAttributes") or self.session_attributes)
        intent = state.get("intent")
        if intent:
            self.intent = intent.get("name")
            self.slots = dict(intent.get("slots") or {})
            self.intent_state = intent.get("state")
            self.confirmation = intent.get("confirmationState") or "None"
        if self.action in ("Close", "ElicitIntent"):
            if self.action == "ElicitIntent":
                self.intent, self.intent_state = None, None
            self.slots, self.confirmation, self.slot_to_elicit = {}, "None", None

    def _result(self, text: str, response: dict, messages: list, events: int) -> TurnResult:
        state = response.get("sessionState") or {}
        intent = state.get("intent") or {}
        bot, buttons = [], []
        for m in messages:
            if m.get("contentType") == "ImageResponseCard":
                card = m.get("imageResponseCard") or {}
                buttons = [{"text": b.get("text"), "value": b.get("value")} for b in card.get("buttons") or []]
            elif m.get("content"):
                bot.append(m["content"])
        slots = {}
        for k, v in (intent.get("slots") or {}).items():
            slots[k] = ((v or {}).get("value") or {}).get("interpretedValue") if v else None
        return TurnResult(user=text, bot=bot, intent=intent.get("name") or self.intent, intent_state=intent.get("state"),
                          dialog_action=(state.get("dialogAction") or {}).get("type"), slot_to_elicit=self.slot_to_elicit,
                          buttons=buttons, slots=slots, events=events)


# --------------------------------------------------------------------- CLI
def local_emulator(root, customer: str | None = None, session_id: str | None = None) -> LexEmulator:
    """An emulator wired to the real hook on ``root``'s services (a chatbot.bootstrap.Container)."""
    from intents.registry import all_specs

    attrs: dict[str, str] = {}
    if customer:
        from chalicelib.identity import REQUEST_ATTRIBUTE

        # The local channel plays an authenticated app: it signs a short-lived identity token.
        signer = root.get("chat")[0].signer
        attrs[REQUEST_ATTRIBUTE] = signer.mint(customer, channel="local")
    return LexEmulator(root.handle_lex_event, all_specs(), session_id=session_id, request_attributes=attrs)


def otp_note(services, emulator: LexEmulator, result: TurnResult) -> str | None:
    """The local outbox's latest code for the customer being verified (the console's "SMS")."""
    if result.slot_to_elicit != "OneTimeCode":
        return None
    from chalicelib.core.ids import session_key
    from chalicelib.identity import latest_local_code

    path = getattr(getattr(services, "otp_sender", None), "path", None)
    state = services.step_up.status(session_key(emulator.session_id))
    if path is None or not state or not state.candidate_customer_id:
        return None
    code = latest_local_code(path, state.candidate_customer_id)
    return f"[local SMS outbox] one-time code: {code}" if code else None


def main(root, customer: str | None = None, script: str | None = None, out=None) -> int:
    """``python -m chatbot chat``: the emulator on ``root``, the container the CLI built."""
    out = out or sys.stdout
    services = root.get("chat")[0]
    emulator = local_emulator(root, customer)
    if script:
        with open(script, encoding="utf-8") as fh:
            lines = [ln.rstrip("\n") for ln in fh]
        for line in lines:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if "{otp}" in line:
                line = line.replace("{otp}", _latest_code(services, emulator) or "000000")
            result = emulator.send(line)
            out.write(json.dumps(result.as_json(), ensure_ascii=False) + "\n")
        return 0
    print("Dispute Assistant (local Lex emulator). Type 'quit' to exit.", file=out)
    if customer:
        print(f"Signed in as {customer} (identity token from the local channel).", file=out)
    while True:
        try:
            line = input("you> ")
        except (EOFError, KeyboardInterrupt):
            print(file=out)
            return 0
        if line.strip().lower() in {"quit", "exit"}:
            return 0
        result = emulator.send(line)
        for msg in result.bot:
            print(f"bot> {msg}", file=out)
        if result.buttons:
            print("     [" + " | ".join(b["text"] for b in result.buttons) + "]", file=out)
        note = otp_note(services, emulator, result)
        if note:
            print(note, file=out)


def _latest_code(services, emulator: LexEmulator) -> str | None:
    note = otp_note(services, emulator, TurnResult("", [], None, None, None, slot_to_elicit="OneTimeCode"))
    return note.rsplit(" ", 1)[-1] if note else None
