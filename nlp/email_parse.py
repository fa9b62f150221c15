"""Raw MIME → the parts of a complaint email that triage needs.

Why hand-rolled on the stdlib ``email`` package (compat32): forwarded complaints arrive from every
mail client ever written, with wrong charsets, truncated parts and broken boundaries. The parser
must never raise on them (a crash would send the SQS message to the dead-letter queue and the
customer would get no answer), so every step has a fallback and records a defect instead.
Attachments are listed, never opened: they are the classic malware vector of a support inbox.
"""
from __future__ import annotations

import email
import email.utils
import hashlib
import re
from datetime import datetime
from email.header import decode_header
from email.message import Message

from pydantic import BaseModel, ConfigDict, Field

from nlp.mail_decode import decode_bytes, html_to_text
from nlp.mail_sources import iter_messages, looks_like_mail
from nlp.reply_strip import inline_forward, strip_quoted

__all__ = ["EmailTooLarge", "Address", "Attachment", "ParsedEmail", "parse_email", "iter_messages",
           "html_to_text", "strip_quoted", "decode_bytes", "looks_like_mail"]

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class EmailTooLarge(ValueError):
    """Raised (the only exception parse_email raises) when the raw message exceeds the cap."""

    def __init__(self, size: int, max_bytes: int):
        super().__init__(f"email is {size} bytes, over the {max_bytes}-byte limit: not parsed")
        self.size = size
        self.max_bytes = max_bytes


class Address(BaseModel):
    address: str
    name: str = ""


class Attachment(BaseModel):
    filename: str | None
    content_type: str
    size: int
    disposition: str | None = None


class ParsedEmail(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    message_id: str
    message_id_synthesised: bool = False
    from_: Address | None = Field(default=None, alias="from")
    original_from: Address | None = None  # the customer, when a support agent forwarded the mail
    to: list[Address] = Field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    body: str = ""  # the author's new text: quoted replies and signature removed
    forwarded_body: str = ""  # the forwarded original's text (inline block or attached message)
    full_body: str = ""  # everything, as decoded
    body_from_html: bool = False
    charsets: list[str] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    forwarded: bool = False
    size: int = 0
    malformed: bool = False
    defects: list[str] = Field(default_factory=list)

    def triage_text(self) -> str:
        """What the triage pipeline reads: subject, new text and the forwarded complaint."""
        return "\n\n".join(p for p in (self.subject, self.body, self.forwarded_body) if p.strip())


# ------------------------------------------------------------------------------------------------
# Charsets

def _header_str(value: object, defects: list[str]) -> str:
    """RFC 2047 decoding; raw 8-bit header bytes (common in spam and old clients) too."""
    if value is None:
        return ""
    if not isinstance(value, str):  # email.header.Header from compat32 for undecodable values
        value = str(value)
    try:
        parts = decode_header(value)
    except Exception:  # a malformed encoded-word: keep the raw header rather than lose it
        defects.append("header-decode-error")
        parts = [(value, None)]
    out: list[str] = []
    prev_encoded: bool | None = None
    for chunk, cs in parts:
        piece = decode_bytes(chunk, cs, defects) if isinstance(chunk, bytes) else chunk
        encoded = cs is not None
        # decode_header drops the space between an encoded word and plain text; RFC 2047 keeps it.
        if out and not (encoded and prev_encoded):
            out.append(" ")
        out.append(piece.strip() if len(parts) > 1 else piece)
        prev_encoded = encoded
    text = "".join(out)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = decode_bytes(text.encode("ascii", "surrogateescape"), None, defects)
    return re.sub(r"\s*\n\s*", " ", text).strip()


def _address(value: str, defects: list[str]) -> Address | None:
    if not value:
        return None
    name, addr = email.utils.parseaddr(value)
    if not addr or "@" not in addr:
        m = re.search(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", value)
        if not m:
            return None
        addr = m.group()
    return Address(address=addr.strip().lower(), name=name.strip().strip('"'))


def _inline_forward(text: str, subject: str, defects: list[str]) -> tuple[Address | None, str] | None:
    """(original sender, original text) of an inline forwarded block, its sender read with this
    message's defects list."""
    return inline_forward(text, subject, lambda value: _address(value, defects))


# ------------------------------------------------------------------------------------------------
# MIME walk

_COSMETIC_DEFECTS = {"FirstHeaderLineIsContinuationDefect"}


def _part_defects(part: Message, where: str, defects: list[str]) -> bool:
    serious = False
    for d in getattr(part, "defects", []) or []:
        name = type(d).__name__
        defects.append(f"{where}:{name}")
        serious = serious or name not in _COSMETIC_DEFECTS
    return serious


class _Walk:
    def __init__(self) -> None:
        self.segments: list[tuple[str, str]] = []  # ("plain" | "html", text) in document order
        self.attachments: list[Attachment] = []
        self.enclosed: list[Message] = []
        self.charsets: list[str] = []
        self.defects: list[str] = []
        self.serious = False

    def visit(self, part: Message, depth: int = 0) -> None:
        if depth > 30:
            self.defects.append("mime-nesting-too-deep")
            self.serious = True
            return
        self.serious |= _part_defects(part, part.get_content_type(), self.defects)
        ctype = part.get_content_type()
        if ctype == "message/rfc822" or (part.is_multipart() and ctype.startswith("message/")):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            size = len(inner.as_bytes()) if isinstance(inner, Message) else 0
            self.attachments.append(Attachment(filename=self._filename(part), content_type=ctype, size=size,
                                               disposition=part.get_content_disposition()))
            if isinstance(inner, Message):
                self.enclosed.append(inner)
            return
        if part.is_multipart():
            payload = part.get_payload()
            start = len(self.segments)
            for sub in payload if isinstance(payload, list) else []:
                if isinstance(sub, Message):
                    self.visit(sub, depth + 1)
            if ctype == "multipart/alternative":
                # One rendering only: the plain one if any, else the HTML one.
                alts = self.segments[start:]
                plain = [seg for seg in alts if seg[0] == "plain"]
                # Alternatives carry the same content: keeping two would repeat the message.
                self.segments[start:] = plain[:1] or alts[-1:]
            return
        filename = self._filename(part)
        disposition = part.get_content_disposition()
        data = self._payload(part)
        if ctype.startswith("text/") and ctype not in ("text/plain", "text/html") \
                and disposition != "attachment" and not filename:
            return  # another rendering of the body (text/watch-html, text/enriched): not a file
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            charset = part.get_content_charset() or part.get_param("charset") or None
            if isinstance(charset, tuple):
                charset = None
            if charset:
                self.charsets.append(str(charset).lower())
            text = decode_bytes(data, charset, self.defects)
            kind = "plain" if ctype == "text/plain" else "html"
            if kind == "plain" and _LOOKS_HTML.match(text):
                kind = "html"  # mislabelled markup (seen in the wild): convert, don't show tags
                self.defects.append("html-in-text-plain")
            self.segments.append((kind, text))
        else:
            self.attachments.append(Attachment(filename=filename, content_type=ctype, size=len(data),
                                               disposition=disposition))

    def _payload(self, part: Message) -> bytes:
        try:
            data = part.get_payload(decode=True)
        except Exception:  # a broken transfer encoding: keep what is there
            self.defects.append("payload-decode-error")
            self.serious = True
            raw = part.get_payload()
            return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""
        if data is None:
            return b""
        return data

    def _filename(self, part: Message) -> str | None:
        try:
            name = part.get_filename()
        except Exception:
            self.defects.append("filename-decode-error")
            return None
        if name is None:
            return None
        return _header_str(name, self.defects) or None


_LOOKS_HTML = re.compile(r"\s*<(?:!doctype|html|head|body|div|p|table|span|br)\b", re.I)


def _body_of(walk: _Walk) -> tuple[str, bool]:
    texts: list[str] = []
    from_html = False
    for kind, text in walk.segments:
        if kind == "html":
            text = html_to_text(text)
            from_html = from_html or bool(text.strip())
        text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
        if text.strip():
            texts.append(text)
    return "\n\n".join(texts), from_html and not any(k == "plain" for k, _ in walk.segments)


def _synthetic_id(raw: bytes) -> str:
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@synthesised.local>"


def parse_email(raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedEmail:
    """Best-effort parse of one raw message; raises only EmailTooLarge."""
    if raw is None:
        raw = b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    if len(raw) > max_bytes:
        raise EmailTooLarge(len(raw), max_bytes)
    try:
        return _parse(raw)
    except Exception as exc:  # never crash the queue consumer: flag the message for a human
        text = decode_bytes(raw, None)
        return ParsedEmail(message_id=_synthetic_id(raw), message_id_synthesised=True, body=text[:20000],
                           full_body=text, size=len(raw), malformed=True,
                           defects=[f"parser-error:{type(exc).__name__}"])


def _parse(raw: bytes) -> ParsedEmail:
    msg = email.message_from_bytes(raw)
    defects: list[str] = []
    malformed = False
    if not raw.strip():
        defects.append("empty-message")
        malformed = True
    if len(msg.keys()) == 0:
        defects.append("no-headers")
        malformed = True

    walk = _Walk()
    walk.visit(msg)
    defects += walk.defects
    malformed |= walk.serious
    if not msg.get("From"):
        defects.append("missing-from")
        malformed = True

    sender = _address(_header_str(msg.get("From"), defects), defects)
    to = [a for a in (_address(_header_str(v, defects), defects) for v in _split_addresses(msg.get_all("To") or []))
          if a]
    subject = _header_str(msg.get("Subject"), defects)
    date = None
    if msg.get("Date"):
        try:
            date = email.utils.parsedate_to_datetime(_header_str(msg.get("Date"), defects))
        except (TypeError, ValueError, IndexError):
            defects.append("invalid-date")
    message_id = _header_str(msg.get("Message-ID"), defects).strip()
    synthesised = not message_id
    if synthesised:
        message_id = _synthetic_id(raw)

    full_body, from_html = _body_of(walk)
    body = strip_quoted(full_body)
    original_from: Address | None = None
    forwarded_body = ""
    forwarded = False
    inline = _inline_forward(full_body, subject, defects)
    if inline is not None:
        forwarded = True
        original_from, forwarded_body = inline
    if walk.enclosed:
        forwarded = True
        inner = walk.enclosed[0]
        inner_walk = _Walk()
        inner_walk.visit(inner)
        defects += [f"enclosed:{d}" for d in inner_walk.defects]
        if original_from is None:
            original_from = _address(_header_str(inner.get("From"), defects), defects)
        inner_body, _ = _body_of(inner_walk)
        forwarded_body = forwarded_body or strip_quoted(inner_body)
        full_body = full_body + ("\n\n" + inner_body if inner_body else "")
    if not forwarded and re.match(r"(?i)^\s*(?:fwd?|fw)\s*:", subject):
        forwarded = True  # forward shown only by the subject: no original sender to recover

    return ParsedEmail(
        message_id=message_id, message_id_synthesised=synthesised, from_=sender, original_from=original_from,
        to=to, subject=subject, date=date, body=body, forwarded_body=forwarded_body, full_body=full_body,
        body_from_html=from_html, charsets=list(dict.fromkeys(walk.charsets)), attachments=walk.attachments,
        forwarded=forwarded, size=len(raw), malformed=malformed, defects=list(dict.fromkeys(defects)),
    )


def _split_addresses(values: list) -> list[str]:
    out: list[str] = []
    for v in values:
        for _name, addr in email.utils.getaddresses([str(v)]):
            if addr:
                out.append(f"{_name} <{addr}>" if _name else addr)
    return out
