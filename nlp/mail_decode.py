"""Bytes and HTML of a mail part → text, never raising.

Mail clients lie about charsets (``iso-8859-1`` that is really cp1252, ``unicode-1-1-utf-7``,
unknown names) and send HTML-only bodies; triage needs readable text either way, so every
fallback records a defect instead of failing.
"""
from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

__all__ = ["decode_bytes", "html_to_text"]


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
