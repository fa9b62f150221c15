"""Parsing one code-hook payload: every kind of bad input becomes a LexEventError with a stable code.

Why: the hook must answer even garbage (Lex V1 events, junk, oversized or absurdly nested
payloads) with a logged, stable error code, never a traceback.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError

from lexv2.events import LexEvent
from lexv2.wire import EVENT_ERROR_CODES, EVENT_MAX_BYTES, EVENT_MAX_DEPTH

log = logging.getLogger(__name__)



class LexEventError(ValueError):
    """A payload the hook cannot treat as a Lex V2 event.

    ``code`` is one of :data:`EVENT_ERROR_CODES` and is stable (logs, metrics and tests key on
    it); ``message`` is for humans and never contains input values, which may carry PII.
    """

    def __init__(self, code: str, message: str):
        if code not in EVENT_ERROR_CODES:
            raise ValueError(f"unknown LexEventError code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _reject(code: str, message: str) -> LexEventError:
    log.warning("lex_event_rejected code=%s detail=%s", code, message)
    return LexEventError(code, message)


def _check_depth(raw: Any) -> None:
    """Refuse absurd nesting before anything recursive (json, pydantic) touches it."""
    stack: list[tuple[Any, int]] = [(raw, 1)]
    nodes = 0
    while stack:
        obj, depth = stack.pop()
        if depth > EVENT_MAX_DEPTH:
            raise _reject("too_large", f"nested deeper than {EVENT_MAX_DEPTH} levels")
        nodes += 1
        if nodes > EVENT_MAX_BYTES:  # every node costs at least one byte once serialised
            raise _reject("too_large", f"more than {EVENT_MAX_BYTES} values")
        if isinstance(obj, dict):
            stack.extend((v, depth + 1) for v in obj.values())
        elif isinstance(obj, (list, tuple)):
            stack.extend((v, depth + 1) for v in obj)


def _looks_like_v1(raw: dict) -> bool:
    # Both V1 and V2 send messageVersion "1.0", so the version alone proves nothing: V1 is
    # recognised by its own top-level fields and by the absence of V2's sessionState.
    if "currentIntent" in raw or "outputDialogMode" in raw:
        return True
    return "sessionState" not in raw and "userId" in raw and raw.get("messageVersion") == "1.0"


def _describe(exc: ValidationError) -> tuple[str, str]:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    code = "missing_field" if any(e["type"] == "missing" for e in errors) else "invalid_field"
    chosen = [e for e in errors if (e["type"] == "missing") == (code == "missing_field")][:3]
    parts = []
    for e in chosen:
        path = ".".join(str(p) for p in e["loc"]) or "<event>"
        parts.append(f"{path}: {e['msg']}")
    more = len(errors) - len(chosen)
    if more > 0:
        parts.append(f"(+{more} more)")
    return code, "; ".join(parts)


def parse_event(raw: Any) -> LexEvent:
    """Parse one code-hook payload into a :class:`LexEvent`, or raise :class:`LexEventError`.

    ``raw`` is normally the dict Lambda hands the hook; JSON text (``str``/``bytes``) is also
    accepted so local tools can pass a body through unchanged. Checks run cheapest first and
    each failure maps to one stable code, so garbage of any shape ends as a LexEventError.
    """
    if isinstance(raw, (bytes, bytearray, str)):
        if len(raw) > EVENT_MAX_BYTES:
            raise _reject("too_large", f"payload over {EVENT_MAX_BYTES} bytes")
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            raise _reject("not_a_dict", "payload is text but not a JSON object") from None
    if not isinstance(raw, dict):
        raise _reject("not_a_dict", f"payload is {type(raw).__name__}, not a JSON object")

    _check_depth(raw)
    try:
        size = len(
            json.dumps(raw, allow_nan=False, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        )
    except UnicodeEncodeError:
        # A lone surrogate (a "\udcff" escape in the JSON) is no text: NLP and storage fail on it.
        raise _reject("invalid_field", "payload contains a lone surrogate, not valid Unicode text") from None
    except (TypeError, ValueError) as exc:
        kind = "NaN or Infinity" if "JSON compliant" in str(exc) else "a non-JSON value"
        raise _reject("invalid_field", f"payload contains {kind}") from None
    if size > EVENT_MAX_BYTES:
        raise _reject("too_large", f"event is {size} bytes, over {EVENT_MAX_BYTES}")

    if _looks_like_v1(raw):
        raise _reject(
            "lex_v1_event",
            "this is a Lex V1 event (currentIntent/outputDialogMode); the hook speaks Lex V2 only",
        )
    try:
        return LexEvent.model_validate(raw)
    except ValidationError as exc:
        code, message = _describe(exc)
        raise _reject(code, message) from None

