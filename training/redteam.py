"""Generate the PII-in-words red-team fixture: ``python -m training.redteam`` writes
``tests/fixtures/redteam_pii.json`` (seeded, so the file only changes when this script does).

Each case is a complaint sentence with one secret (a card security code or an SSN, introduced in
one of many ways, before or after the number, English or Spanish, digits grouped any way or
spelled out) and must-keep facts around it (an amount, a date, an order reference, a case id
DSP-XXXXXX, a transaction id, a phone-like order number) that redaction must leave exactly as
written. Written from imagination, not from the existing tests.

Later kinds, each from its own seeded generator and appended, so earlier cases never change:
``CARD_CVV``, a card number (spaced, dashed, plain; Visa, Mastercard, Amex, Discover) and its
security code in either order, where the card token must keep the card's last four and the code be
a token of its own, and ``NAME``, a hyphenated name after a greeting, a sign-off or "my name is",
which must go whole. ``expect`` lists tokens the redacted text must contain. After those, the
spoken / signed / named classes of ``training.redteam_spoken`` (card numbers in words, SSNs after
"social security number", national phones, names; and "KEEP" cases with no secret).
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from training.redteam_spoken import spoken_case

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "redteam_pii.json"
SEED = 11
N_CVV = 300
N_SSN = 260
SEED_LATER = 12  # the CARD_CVV and NAME cases
N_CARD_CVV = 160
N_NAME = 120
# Card numbers read out in words, SSNs after "social security number", national phone formats,
# names in signatures / after relatives / on the card, and prose that must stay untouched.
SPOKEN = {"CARD_WORDS": 60, "SSN": 30, "PHONE": 30, "NAME": 80, "KEEP": 40}

_SPELL_EN = "zero one two three four five six seven eight nine".split()
_SPELL_ES = "cero uno dos tres cuatro cinco seis siete ocho nueve".split()

CVV_BEFORE = [  # "{trigger} {code}"
    "the 3 digits on the back are {c}", "the three digits on the back of my card: {c}", "security code {c}",
    "my security number is {c}", "code on the reverse is {c}", "CVV2 {c}", "cvv2: {c}", "the cvc is {c}",
    "card verification value {c}", "verification code: {c}", "the 4 digits on the front say {c}",
    "the numbers on the back are {c}", "sec code {c}", "security digits {c}", "CSC {c}",
    "the code on the back of the card is {c}", "digits on the signature strip {c}", "CVN {c}",
    "mi código de seguridad es {c}", "código de seguridad: {c}", "los tres dígitos del reverso son {c}",
    "los 3 dígitos de atrás son {c}", "el codigo cvv es {c}", "clave de seguridad {c}",
    "dígitos del reverso {c}", "número de seguridad {c}", "the back of the card says {c}",
]
CVV_AFTER = [  # "{code} {trigger}"
    "{c} is the security code", "{c} (the 3 digits on the back)", "{c} - code on the reverse",
    "{c}, the three digits on the back", "{c} is my cvv2", "{c} son los tres dígitos del reverso",
    "{c} es el código de seguridad", "{c} security number",
]
SSN_FORMS = [
    "my social is {s}", "ss# {s}", "SSN {s}", "social security number {s}", "soc sec {s}", "my social security no. {s}",
    "social: {s}", "taxpayer id {s}", "ITIN {s}", "mi número de seguro social es {s}", "seguro social {s}",
    "{s} is my social", "{s} (social security)", "{s} - my SSN", "S.S.N. {s}", "ss number {s}",
]
SSN_LAST4 = ["the last 4 of my social is {s4}", "last four digits of my SSN: {s4}"]
OPENERS = [
    "I was charged {amt} on {date} for order {order} and I did not make it.",
    "Please reverse the {amt} charge from {date}; my case is {case}.",
    "Transaction {txn} for {amt} on {date} is not mine.",
    "The merchant billed me {amt} twice on {date} (order {phone_order}).",
    "Re {case}: still waiting for a refund of {amt} since {date}.",
    "Cobro de {amt} el {date}, pedido {order}, no lo reconozco.",
]
CLOSERS = ["Thanks.", "Case {case} please.", "Order ref {phone_order}.", "It was {amt} on {date}.", "Txn {txn}.", ""]


def _code(rng: random.Random) -> tuple[str, str]:
    """(as written, its digits)."""
    digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([3, 3, 3, 4])))
    style = rng.random()
    if style < 0.7:
        return digits, digits
    if style < 0.8:
        return " ".join(digits), digits
    if style < 0.9:
        return "-".join(digits), digits
    words = _SPELL_ES if rng.random() < 0.3 else _SPELL_EN
    return " ".join(words[int(d)] for d in digits), digits


def _ssn(rng: random.Random) -> tuple[str, str]:
    area = rng.randint(1, 899)
    while area == 666:
        area = rng.randint(1, 899)
    d = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    groupings = [(3, 2, 4), (9,), (3, 3, 3), (1, 8), (5, 4), (3, 6), (4, 5), (2, 3, 4), (3, 2, 2, 2)]
    seps = [" ", "-", ".", "  ", " - ", "/"]
    g, sep = rng.choice(groupings), rng.choice(seps)
    parts, i = [], 0
    for n in g:
        parts.append(d[i:i + n])
        i += n
    written = sep.join(parts)
    if rng.random() < 0.05:
        written = " ".join(_SPELL_EN[int(c)] for c in d)
    return written, d


def _facts(rng: random.Random) -> dict[str, str]:
    amt = rng.choice(["${:,.2f}", "USD {:.2f}", "€{:.2f}", "{:.2f} dollars", "£{:.0f}"]).format(rng.uniform(3, 4000))
    date = rng.choice(["03/14/2026", "2026-02-09", "March 3, 2026", "12/01/2025", "2026-11-02"])
    return {
        "amt": amt, "date": date,
        "order": f"#{rng.randint(10**7, 10**8 - 1)}",
        # Phone-like (3-3-4) most of the time; an Amazon-style 3-7-7 ref otherwise (17 digits: when it
        # happens to be Luhn-valid the PCI guard masks it as a card, on purpose).
        "phone_order": (f"{rng.randint(200, 999)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}" if rng.random() < 0.7
                        else f"{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}-{rng.randint(1000000, 9999999)}"),
        "case": "DSP-" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(6)),
        "txn": f"txn_{rng.randint(10**9, 10**10 - 1)}",
    }


def _case(rng: random.Random, kind: str) -> dict:
    facts = _facts(rng)
    opener = rng.choice(OPENERS).format(**facts)
    closer = rng.choice(CLOSERS).format(**facts)
    if kind == "CVV":
        written, digits = _code(rng)
        phrase = rng.choice(CVV_BEFORE + CVV_AFTER).format(c=written)
    else:
        if rng.random() < 0.08:
            written = digits = f"{rng.randint(1, 9999):04d}"
            phrase = rng.choice(SSN_LAST4).format(s4=written)
        else:
            written, digits = _ssn(rng)
            phrase = rng.choice(SSN_FORMS).format(s=written)
    joiner = rng.choice([" For verification, ", " Also ", " FYI ", "\n", " - "])
    text = f"{opener}{joiner}{phrase}. {closer}".strip()
    used = [v for k, v in facts.items() if v in text]
    return {"kind": kind, "text": text, "secret": written, "secret_digits": digits, "must_keep": used}


# (first digits, length, grouping when spaced or dashed)
CARD_BRANDS = [("4", 16, (4, 4, 4, 4)), ("51", 16, (4, 4, 4, 4)), ("55", 16, (4, 4, 4, 4)), ("2221", 16, (4, 4, 4, 4)),
               ("6011", 16, (4, 4, 4, 4)), ("34", 15, (4, 6, 5)), ("37", 15, (4, 6, 5))]
CARD_FORMS = ["card {n}", "my card is {n}", "Visa {n}", "card number: {n}", "{n}", "card no. {n}", "the card {n}"]
CODE_FORMS = ["cvv {c}", "CVV: {c}", "cvc2 {c}", "security code {c}", "{c} is the cvv", "CVV2 {c}",
              "the 3 digits on the back are {c}", "sec code {c}", "(cvv {c})", "código de seguridad {c}"]
CARD_JOINERS = [" ", ", ", " and ", "\n", " - ", "; ", " exp 09/27 "]
FIRST = ["Mary-Jane", "Jean-Luc", "Anna-Lena", "Ji-Woo", "Marie-Claire", "Jean-Pierre", "Ana-Maria", "Lee-Ann",
         "Karl-Heinz", "Mary", "Jane", "Luis", "Priya", "Tom", "Hannah", "Omar"]
LAST = ["Smith-Jones", "Lopez-Garcia", "Watson", "Okafor-Reid", "Dupont", "Müller-Lüdenscheidt", "Nguyen",
        "Taylor-Brown", "Ferreira-Santos", "O'Neil-Smith", "Kowalski"]
NAME_FORMS = ["My name is {n}.", "Dear {n},", "Regards,\n{n}", "I am {n} and I hold a debit card with you.",
              "This is {n} writing about my account.", "Thank you,\n{n}", "Cardholder: {n}", "Kind regards,\n{n}",
              "Hi, my name is {n} and I need help.", "Sincerely,\n{n}"]


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body + "0")):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def _card_cvv_case(rng: random.Random) -> dict:
    prefix, length, grouping = rng.choice(CARD_BRANDS)
    digits = _luhn_complete(prefix, length, rng)
    style = rng.choice(["spaced", "dashed", "plain", "double"])
    parts, i = [], 0
    for n in grouping:
        parts.append(digits[i:i + n])
        i += n
    written = {"spaced": " ".join(parts), "dashed": "-".join(parts), "plain": digits, "double": "  ".join(parts)}[style]
    code = "".join(rng.choice("0123456789") for _ in range(4 if length == 15 else 3))
    card = rng.choice(CARD_FORMS).format(n=written)
    secret = rng.choice(CODE_FORMS).format(c=code)
    joiner = rng.choice(CARD_JOINERS)
    body = f"{card}{joiner}{secret}" if rng.random() < 0.6 else f"{secret}{joiner}{card}"
    facts = _facts(rng)
    opener = rng.choice(OPENERS).format(**facts)
    text = f"{opener} {body}. {rng.choice(CLOSERS).format(**facts)}".strip()
    return {"kind": "CARD_CVV", "text": text, "secret": code, "secret_digits": code, "card_digits": digits,
            "card_written": written, "expect": [f"[CARD ****{digits[-4:]}]", "[CVV]"],
            "must_keep": [v for v in facts.values() if v in text]}


def _name_case(rng: random.Random) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if "-" not in first + last:
        last = rng.choice([n for n in LAST if "-" in n])
    name = f"{first} {last}" if rng.random() < 0.8 else (first if "-" in first else last)
    facts = _facts(rng)
    opener = rng.choice(OPENERS).format(**facts)
    form = rng.choice(NAME_FORMS).format(n=name)
    text = f"{form} {opener}" if form.startswith(("My", "Dear", "I am", "This", "Hi", "Cardholder")) else f"{opener}\n{form}"
    return {"kind": "NAME", "text": text, "secret": name, "secret_digits": "", "expect": ["[NAME]"],
            "must_keep": [v for v in facts.values() if v in text]}


def _spoken(rng: random.Random) -> list[dict]:
    """The spoken / signed / named classes (``training.redteam_spoken``), from their own seeded
    generator so the described-CVV/SSN cases above stay exactly as they were."""
    out = []
    for kind, n in SPOKEN.items():
        for _ in range(n):
            facts = _facts(rng)
            out.append(spoken_case(rng, kind, facts, rng.choice(OPENERS).format(**facts)))
    return out


def generate(seed: int = SEED) -> list[dict]:
    rng = random.Random(seed)
    cases = [_case(rng, "CVV") for _ in range(N_CVV)] + [_case(rng, "SSN") for _ in range(N_SSN)]
    later = random.Random(SEED_LATER)
    cases += [_card_cvv_case(later) for _ in range(N_CARD_CVV)] + [_name_case(later) for _ in range(N_NAME)]
    cases += _spoken(random.Random(seed + 1))
    for i, c in enumerate(cases):
        c["id"] = f"rt-{i:04d}"
    return cases


def main() -> None:
    cases = generate()
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps({"seed": SEED, "generator": "training/redteam.py", "cases": cases},
                                  indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases to {FIXTURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
