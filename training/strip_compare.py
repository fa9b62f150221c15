"""Reply/forward stripping: the hand-written ``nlp.email_parse.strip_quoted`` against
``mail-parser-reply`` (MIT, https://github.com/alfonsrv/mail-parser-reply) on
``tests/fixtures/reply_strip.json`` (our own Outlook/Gmail/Apple/mobile/non-English fixtures,
scored exactly: normalised whitespace equal to the expected new text) and on the sample emails in
``../shared/data/emails`` (no ground truth: scored as agreement of the two, plus "kept the first
line of the new text"). ``python -m training.strip_compare``.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from nlp.email_parse import strip_quoted

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "reply_strip.json"
EMAILS = ROOT.parent / "shared" / "data" / "emails"
LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt"]


def _norm(s: str) -> str:
    return " ".join(s.split())


def library_stripper():
    """mail-parser-reply's reply text, or None when the package is not installed."""
    try:
        from mailparser_reply import EmailReplyParser
    except ImportError:
        return None
    parser = EmailReplyParser(languages=LANGUAGES)
    return lambda text: parser.parse_reply(text=text) or ""


def combined(text: str, lib=None) -> str:
    """Both strippers, the shorter cut wins (each misses markers the other knows)."""
    ours = strip_quoted(text)
    if lib is None:
        return ours
    theirs = lib(text)
    return theirs if theirs.strip() and len(_norm(theirs)) < len(_norm(ours)) else ours


def compare() -> dict:
    cases = json.loads(FIXTURE.read_text(encoding="utf-8"))["cases"]
    lib = library_stripper()
    methods = {"handwritten": strip_quoted}
    if lib is not None:
        methods["mail_parser_reply"] = lib
        methods["combined"] = lambda t: combined(t, lib)
    out: dict = {"fixtures": len(cases)}
    for name, fn in methods.items():
        t0 = time.perf_counter()
        got = [fn(c["text"]) for c in cases]
        ms = (time.perf_counter() - t0) * 1000 / len(cases)
        ok = [c["id"] for c, g in zip(cases, got) if _norm(g) == _norm(c["expected"])]
        out[f"strip_exact_pct_{name}"] = round(100.0 * len(ok) / len(cases), 1)
        out[f"strip_ms_{name}"] = round(ms, 3)
        out[f"strip_failed_{name}"] = [c["id"] for c in cases if c["id"] not in ok]
    if EMAILS.exists() and lib is not None:
        from nlp.email_parse import iter_messages, parse_email

        agree = n = 0
        for _, raw in iter_messages(EMAILS):
            full = parse_email(raw).full_body
            n += 1
            agree += _norm(strip_quoted(full)) == _norm(lib(full))
        out["sample_emails"] = n
        out["sample_agreement_pct"] = round(100.0 * agree / max(1, n), 1)
    return out


if __name__ == "__main__":
    print(json.dumps(compare(), indent=2))
