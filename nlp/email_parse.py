"""Raw MIME → the parts of a complaint email that triage needs.

Why hand-rolled on the stdlib ``email`` package (compat32): forwarded complaints arrive from every
mail client ever written, with wrong charsets, truncated parts and broken boundaries. The parser
must never raise on them (a crash would send the SQS message to the dead-letter queue and the
customer would get no answer), so every step has a fallback and records a defect instead.
Attachments are listed, never opened: they are the classic malware vector of a support inbox.
"""
from __future__ import annotations

import codecs
import email
import email.utils
import hashlib
import mailbox
import re
from datetime import datetime
from email.header import decode_header
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EmailTooLarge", "Address", "Attachment", "ParsedEmail", "parse_email", "iter_messages",
           "html_to_text", "strip_quoted"]

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

_CHARSET_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cn-gb": "gb18030", "euc-cn": "gb18030",
    "shift_jis": "cp932", "shift-jis": "cp932", "x-sjis": "cp932", "sjis": "cp932", "ms_kanji": "cp932",
    "windows-31j": "cp932", "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949",
    "big5": "big5hkscs", "x-big5": "big5hkscs", "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7", "x-unknown": "", "unknown-8bit": "", "x-user-defined": "",
    "ansi_x3.4-1968": "ascii", "us-ascii": "ascii", "default": "", "iso-8859-1": "cp1252",
    "latin1": "cp1252", "latin-1": "cp1252", "iso8859-1": "cp1252", "tis-620": "cp874",
    "windows-874": "cp874", "x-mac-roman": "mac_roman", "macintosh": "mac_roman",
}


def _codec(charset: str | None) -> str | None:
    """Python codec for a declared charset, preferring the superset mail clients really use."""
    if not charset:
        return None
    cs = charset.strip().strip('"\'').lower()
    cs = _CHARSET_ALIASES.get(cs, cs)
    if not cs:
        return None
    try:
        return codecs.lookup(cs).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None, defects: list[str] | None = None) -> str:
    """Declared charset → UTF-8 → cp1252 with replacement; every fallback is recorded."""
    codec = _codec(charset)
    if charset and codec is None and defects is not None:
        defects.append(f"unknown-charset:{charset}")
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            if defects is not None:
                defects.append(f"charset-mismatch:{charset}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if defects is not None:
        defects.append("charset-fallback:cp1252")
    return data.decode("cp1252", errors="replace")


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


# ------------------------------------------------------------------------------------------------
# HTML → text


class _HtmlText(HTMLParser):
    BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
             "blockquote", "pre", "hr", "section", "article", "header", "footer", "dt", "dd"}
    SKIP = {"script", "style", "head", "title", "noscript", "template", "xml"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip = 0
        self.quote = 0
        self.pre = 0
        self.open_blocks: list[tuple[str, bool]] = []

    def _break(self) -> None:
        line = "".join(self.current).strip()
        if self.pre == 0:
            line = re.sub(r"[ \t\u00a0]+", " ", line)
        if line or (self.lines and self.lines[-1] != ""):
            self.lines.append(("> " * self.quote) + line if line else "")
        self.current = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self.skip += 1
        elif tag in self.BLOCK:
            self._break()
            is_quote = tag == "blockquote" or (tag == "div" and any(
                k == "class" and v and ("gmail_quote" in v or "yahoo_quoted" in v) for k, v in attrs))
            if tag not in ("br", "hr"):
                self.open_blocks.append((tag, is_quote))
            self.quote += is_quote
            if tag == "li":
                self.current.append("- ")
            if tag == "pre":
                self.pre += 1
        elif tag in ("td", "th"):
            self.current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if tag in self.BLOCK:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self._break()
            # Unclosed <p>/<li> are common: pop up to the matching opener, ignore stray closers.
            if any(t == tag for t, _ in self.open_blocks):
                while self.open_blocks:
                    t, was_quote = self.open_blocks.pop()
                    self.quote -= was_quote
                    if t == "pre":
                        self.pre = max(0, self.pre - 1)
                    if t == tag:
                        break

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.current.append(data if self.pre else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        self._break()
        return "\n".join(self.lines).strip()


def html_to_text(html: str) -> str:
    """Readable text from HTML: scripts/styles dropped, block tags become line breaks,
    entities decoded, blockquotes marked with "> " so the reply stripper can remove them."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient, but a broken declaration can still raise
        return re.sub(r"<[^>]+>", " ", html)
    return parser.text()


# ------------------------------------------------------------------------------------------------
# Replies, signatures, forwards

_FWD_MARKER_RE = re.compile(
    r"(?im)^[ \t>*]*(?:-{2,}\s*Forwarded message\s*-{2,}|Begin forwarded message:|-{2,}\s*Original Message\s*-{2,}"
    r"|-{2,}\s*Weitergeleitete Nachricht\s*-{2,}|-{2,}\s*Message transféré\s*-{2,}|_{10,})[ \t*]*$")
_ANY_HEADER_RE = re.compile(r"^[ \t>*]*([A-Za-z][A-Za-z0-9\-]{0,40}|Envoyé)[ \t*]*:[ \t*]*(.*)$")
_OUTLOOK_BLOCK_RE = re.compile(
    r"(?im)^[ \t*]*From:[ \t*]+\S.*\n(?:[ \t*]*\n)?[ \t*]*(?:Sent|Date):[ \t*]+\S")
_ON_WROTE_RE = re.compile(
    r"(?ims)^[ \t]*(?:On|Le|Am|El|Il|Op)\s[^\n]{0,200}?(?:\n[^\n]{0,200}?)?\s(?:wrote|a écrit|schrieb|escribió|ha scritto|schreef)\s*:[ \t]*$")
_SIG_RE = re.compile(r"(?m)^(?:-- ?|--|__+)[ \t]*$")
_MOBILE_SIG_RE = re.compile(
    r"(?im)^[ \t]*(?:Sent from my \w[^\n]*|Sent from (?:Mail|Outlook|Yahoo Mail)[^\n]*|Get Outlook for [^\n]*"
    r"|Sent via [^\n]*|Envoyé de mon [^\n]*|Von meinem [^\n]* gesendet)[ \t]*$")
_SIGN_OFF_RE = re.compile(
    r"(?im)^[ \t]*(?:(?:kind|best|warm|warmest|many)\s+)?(?:regards|thanks|thank you|cheers|sincerely|best"
    r"|best wishes|yours(?:\s+(?:truly|sincerely|faithfully))?|respectfully)[ \t]*[,.!]?[ \t]*$")


def strip_quoted(text: str) -> str:
    """The new text of a message: quoted history, forwarded blocks and signature removed."""
    cut = len(text)
    for rx in (_ON_WROTE_RE, _OUTLOOK_BLOCK_RE, _FWD_MARKER_RE, _SIG_RE, _MOBILE_SIG_RE):
        m = rx.search(text)
        if m and m.start() < cut:
            cut = m.start()
    text = text[:cut]
    lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith(">")]
    # "Regards,\nJane" at the end: drop the sign-off and the few short lines under it.
    for i in range(len(lines) - 1, max(-1, len(lines) - 8), -1):
        if _SIGN_OFF_RE.match(lines[i]) and all(len(x.strip()) <= 40 for x in lines[i + 1:]):
            lines = lines[:i]
            break
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _inline_forward(text: str, subject: str, defects: list[str]) -> tuple[Address | None, str] | None:
    """(original sender, original text) of an inline forwarded/original-message block, if any."""
    m = _FWD_MARKER_RE.search(text)
    start = m.end() if m else None
    if start is None and re.match(r"(?i)^\s*(?:fwd?|fw|tr|wg)\s*:", subject or ""):
        block = _OUTLOOK_BLOCK_RE.search(text)
        start = block.start() if block else None
    if start is None:
        return None
    rest = text[start:]
    lines = rest.split("\n")
    sender: Address | None = None
    i = 0
    while i < len(lines) and not lines[i].strip(" \t>*"):
        i += 1
    seen_header = False
    while i < len(lines):
        line = lines[i]
        hm = _ANY_HEADER_RE.match(line)
        if hm:
            seen_header = True
            if hm.group(1).lower() in ("from", "de", "von") and sender is None:
                value = re.sub(r"\[mailto:[^\]]*\]", "", hm.group(2)).strip(" *")
                sender = _address(value, defects)
        elif not (seen_header and line[:1] in (" ", "\t") and line.strip()):
            break  # end of the header block (continuation lines belong to it)
        i += 1
    pos = sum(len(ln) + 1 for ln in lines[:i])
    return sender, strip_quoted(rest[pos:])


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


# ------------------------------------------------------------------------------------------------
# Sources

_MBOX_FROM_RE = re.compile(rb"^From \S+\s+\w{3} \w{3}\s+\d{1,2} \d{1,2}:\d{2}(?::\d{2})? (?:\S+ )?\d{4}", re.M)
_HEADER_START_RE = re.compile(rb"^(?:From |[\x21-\x39\x3b-\x7e]+:)")


def _looks_like_mail(head: bytes) -> bool:
    return bool(_HEADER_START_RE.match(head.lstrip(b"\r\n\t ")))


def iter_messages(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """(source name, raw bytes) for a message file, a directory of them, or an mbox file.

    Directories are walked recursively in name order; files that do not start like a mail message
    (a README, a manifest) are skipped. A file holding several "From " separated messages is read
    as an mbox and each message is named ``file#index``.
    """
    p = Path(path)
    if p.is_dir():
        for child in sorted(p.rglob("*")):
            if child.is_file() and not child.name.startswith("."):
                with child.open("rb") as fh:
                    head = fh.read(4096)
                if _looks_like_mail(head):
                    yield from iter_messages(child)
        return
    raw = p.read_bytes()
    if len(_MBOX_FROM_RE.findall(raw)) > 1:
        box = mailbox.mbox(str(p), create=False)
        try:
            for i, key in enumerate(box.iterkeys()):
                yield f"{p.name}#{i}", box.get_bytes(key)
        finally:
            box.close()
        return
    yield p.name, raw
