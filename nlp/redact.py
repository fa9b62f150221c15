"""PII redaction: runs before any model, store or log line sees customer text.

Why typed tokens: downstream triage still needs to know *that* a card number, an IBAN or a phone
number was mentioned (and the card's last 4, which PCI DSS 3.4 allows), never the value. Findings
carry only the type and the character offsets in the input, so they can be logged safely.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

from pydantic import BaseModel

from chalicelib.core.pci import guard_text
from nlp.patterns import scrub_pans
from nlp.pii_words import merge_spans

if TYPE_CHECKING:  # the pipeline (tokenizer rules, merchant phrases) is built on first use only
    from nlp.pipeline import Pipeline

__all__ = ["PiiFinding", "Redaction", "redact", "redacted_prefix", "mask_pan", "redact_mapping", "scrub_pans",
           "get_pipeline"]


class PiiFinding(BaseModel):
    type: str
    start: int
    end: int


class Redaction(BaseModel):
    text: str
    pii_counts: dict[str, int]
    findings: list[PiiFinding]


@lru_cache(maxsize=1)
def get_pipeline() -> "Pipeline":
    """One pipeline per process (Lambda container), built on first use from ``pipeline.cfg``."""
    from nlp.pipeline import build_pipeline

    return build_pipeline()


def _token(kind: str, last4: str) -> str:
    return f"[CARD ****{last4}]" if kind == "CARD" else f"[{kind}]"


def redact(text: str, known_names: Iterable[str] = ()) -> Redaction:
    """Replaces every detected PII span by a typed token; card tokens keep the last 4 only.
    ``known_names``: people the caller knows are named in the text (an email's sender), redacted
    wherever they or their parts appear ("Mark, there's a charge" from "Mark Delaney")."""
    if not text:
        return Redaction(text="", pii_counts={}, findings=[])
    doc = get_pipeline()(text, assigns={"pii_spans"})
    # Security codes and SSNs described in words (nlp.pii_words) join the pipeline's findings.
    spans = merge_spans(text, list(doc.pii_spans))
    if known_names:
        spans = _with_known_names(text, spans, known_names)
    out: list[str] = []
    counts: dict[str, int] = {}
    findings: list[PiiFinding] = []
    pos = 0
    for sp in spans:
        out.append(text[pos:sp.start])
        out.append(_token(sp.type, sp.last4))
        pos = sp.end
        counts[sp.type] = counts.get(sp.type, 0) + 1
        findings.append(PiiFinding(type=sp.type, start=sp.start, end=sp.end))
    out.append(text[pos:])
    redacted = "".join(out)
    # Safety net: whatever the detectors and the resolver decided, no card number, CVV, SSN or
    # IBAN leaves (the one outbound guard, chalicelib.core.pci).
    guarded = guard_text(redacted)
    if guarded != redacted:
        extra = guarded.count("[CARD ****") - redacted.count("[CARD ****")
        if extra:
            counts["CARD"] = counts.get("CARD", 0) + extra
        redacted = guarded
    return Redaction(text=redacted, pii_counts=counts, findings=findings)


def redacted_prefix(red: Redaction, text: str, n: int) -> str | None:
    """``text[:n]`` as it stands redacted in ``red`` (the redaction of the whole ``text``); a finding
    that crosses ``n`` is kept whole as its token. None when ``red.text`` is not exactly the findings'
    replacement (the outbound guard changed more): then the caller redacts the prefix on its own.

    Why: an email's subject is the start of the text triage redacts, and what the body reveals
    counts in the subject too ("my name is Jane Doe" in the body, "Complaint - Jane Doe" as subject):
    redacted on its own, the subject kept the name."""
    out: list[str] = []
    pos = rpos = 0
    for f in red.findings:
        piece = text[pos:f.start]
        close = red.text.find("]", rpos + len(piece))
        if red.text[rpos:rpos + len(piece)] != piece or close < 0 or red.text[rpos + len(piece)] != "[":
            return None
        if pos < n:
            out.append(piece[:n - pos] + (red.text[rpos + len(piece):close + 1] if f.start < n else ""))
        rpos, pos = close + 1, f.end
    if red.text[rpos:] != text[pos:]:
        return None
    if pos < n:
        out.append(text[pos:n])
    return "".join(out)


def _with_known_names(text: str, spans: list, names: Iterable[str]) -> list:
    from nlp.components import NOT_NAMES
    from nlp.signature_names import add_spans, known_name_spans

    return add_spans(spans, known_name_spans(text, names, NOT_NAMES))


def mask_pan(pan: str) -> str:
    """Masks a card number for logs: at most the last 4 digits stay visible (PCI DSS 3.4)."""
    digits = "".join(ch for ch in str(pan) if ch.isdigit())
    if len(digits) < 8:  # too short to be a PAN: its "last 4" would be most of it
        return "*" * len(digits) if digits else "****"
    return "*" * (len(digits) - 4) + digits[-4:]


def redact_mapping(value: Any) -> Any:
    """Scrubs card numbers from every string inside a record or log payload (dicts, lists, tuples).

    This is the last line of defence before a record is stored or a log line written: it runs only
    the one outbound guard (cheap, no pipeline: card numbers, CVV, SSN, IBAN) so it can wrap every
    structured log call.
    """
    if isinstance(value, str):
        return guard_text(value)
    if isinstance(value, dict):
        return {k: redact_mapping(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_mapping(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_mapping(v) for v in value)
    if isinstance(value, BaseModel):
        return redact_mapping(value.model_dump())
    return value
