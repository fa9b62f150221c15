"""Red-team classes for PII that is spoken, signed or named rather than labelled (issue 11).

Written from the leak classes, not from any test mail: card numbers read out in words (English,
Spanish, French, German; digit-and-word mixes; English in pairs; wrapped over a line; followed by
the code), SSNs
introduced as "social security number" then "my social is 078 05 1120", national phone formats
(French pairs, Chinese mobiles), and names (alone at the end of the letter, under sign-offs in six
languages, after a relative or a role, read off the card). Each case carries must-keep facts; the
"KEEP" cases hold no secret at all: prose with number words, departments after "Dear", loan and
policy numbers, which redaction must leave exactly as written.
"""
from __future__ import annotations

import random

WORDS = {
    "en": "zero one two three four five six seven eight nine".split(),
    "es": "cero uno dos tres cuatro cinco seis siete ocho nueve".split(),
    "fr": "zéro un deux trois quatre cinq six sept huit neuf".split(),
    "de": "null eins zwei drei vier fünf sechs sieben acht neun".split(),
}
CARD_LEADS = {
    "en": ["the card number is {n}", "it's the Visa {n}", "my Mastercard is {n}", "card: {n}",
           "the long number on the card reads {n}", "the debit card {n} was taken"],
    "es": ["el número de la tarjeta es {n}", "mi tarjeta {n}", "tarjeta de crédito {n}"],
    "fr": ["le numéro de carte est {n}", "ma carte bancaire {n}", "carte Visa {n}"],
    "de": ["die Kartennummer ist {n}", "meine Karte {n}"],
}
FIRST = ["Aurelio", "Benedetta", "Chiamaka", "Dagny", "Eamon", "Fenna", "Goran", "Hyun-woo", "Ingrid", "Jaroslav",
         "Kalani", "Leocadia", "Mateus", "Nnamdi", "Orla", "Paavo", "Quinlan", "Rosalind", "Saoirse", "Thiago",
         "Ulla", "Vesna", "Wiremu", "Ximena", "Yaroslava", "Zoltan", "Anouk", "Bérénice", "Cyprien", "Dörte"]
LAST = ["Abernathy", "Bergström", "Castellanos", "Dimitriou", "Eze", "Fairweather", "Gallagher", "Halvorsen",
        "Ishikawa", "Jovanović", "Kowalczyk", "Lindqvist", "Mbeki", "Nakashima", "Okonkwo", "Papadakis",
        "Quiroga", "Rautio", "Szymańska", "Thorvaldsen", "Urquhart", "Valdés", "Wójcik", "Yilmaz", "Zamora",
        "Delacroix-Roux", "Ó Briain", "Müller-Lüdenscheidt", "Ferreira", "Achterberg"]
SIGN_OFFS = ["Kind regards,", "Best,", "Cordialement,", "Bien à vous,", "Mit freundlichen Grüßen", "Viele Grüße",
             "Atentamente,", "Saludos,", "Un saludo,", "Grazie,", "Cordiali saluti", "Atenciosamente,",
             "Obrigada,", "Met vriendelijke groet,", "Thank you,", "Sincerely,"]
RELATIONS = ["my husband", "my wife", "my assistant", "my daughter", "my son", "my partner", "my accountant",
             "my lawyer", "mi esposa", "mi hijo", "mon mari", "ma fille", "meine Frau", "mein Sohn"]
CARD_NAME = ["my name on the card is {n}", "the name on the card is {n}", "the card is in the name of {n}",
             "cardholder name: {n}", "me llamo {n}", "je m'appelle {n}", "ich heiße {n}"]
SOCIAL_PREAMBLE = ["The agent asked for my social security number to verify me, so here it is: my social is {s}.",
                   "You wanted my social security number for the dispute form: my social is {s}.",
                   "Social security number (as requested): {s}.", "My social security number is {s}."]
KEEP_PROSE = [
    "There are one or two things I want to add, and I called three times already.",
    "They took two hundred dollars on the twenty second of November.",
    "I have four kids, two dogs, one cat and zero patience left.",
    "Le vendeur m'a dit deux ou trois fois que le colis arriverait.",
    "Me cobraron dos veces, una el lunes y otra el martes.",
    "Dear Mortgage Servicing Department, my escrow is wrong.",
    "Hello Card Services Team, the merchant charged me twice.",
    "I complained to the Consumer Financial Protection Bureau last week.",
]


def _card_digits(rng: random.Random) -> str:
    prefix = rng.choice(["4", "51", "52", "53", "54", "55", "2221", "2720", "6011"])
    body = prefix + "".join(rng.choice("0123456789") for _ in range(15 - len(prefix)))
    for check in "0123456789":
        total = 0
        for i, ch in enumerate(reversed(body + check)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return body + check
    raise AssertionError("unreachable")


def _spell(rng: random.Random, digits: str, lang: str) -> tuple[str, list[str]]:
    """(as written, the groups as written): words, sometimes a digit group, sometimes a line break."""
    groups = [digits[i:i + 4] for i in range(0, 16, 4)]
    written: list[str] = []
    if lang == "en" and rng.random() < 0.25:  # read two by two: "forty-five thirty-two, oh one ..."
        written = [" ".join(_pair(g[k:k + 2]) for k in (0, 2)) for g in groups]
        return ", ".join(written), written
    mixed = rng.random() < 0.25
    for k, g in enumerate(groups):
        if mixed and k in (0, 2):
            written.append(g)
        else:
            written.append(" ".join(WORDS[lang][int(c)] for c in g))
    sep = rng.choice([", ", " ", " - ", ",\n"])
    return sep.join(written), written


_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()


def _pair(two: str) -> str:
    """Two digits as said in pairs: "45" forty-five, "05" oh five, "12" twelve, "40" forty."""
    tens, unit = int(two[0]), int(two[1])
    if tens == 0:
        return f"oh {WORDS['en'][unit]}"
    if tens == 1:
        return _TEENS[unit]
    return _TENS[tens - 2] + (f"-{WORDS['en'][unit]}" if unit else "")


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def spoken_case(rng: random.Random, kind: str, facts: dict[str, str], opener: str) -> dict:
    """One case of ``kind`` (CARD_WORDS, SSN, PHONE, NAME or KEEP) after ``opener``."""
    if kind == "CARD_WORDS":
        lang = rng.choice(["en", "en", "es", "fr", "de"])
        digits = _card_digits(rng)
        written, groups = _spell(rng, digits, lang)
        phrase = rng.choice(CARD_LEADS[lang]).format(n=written)
        if rng.random() < 0.2:
            code = "".join(rng.choice("0123456789") for _ in range(3))
            phrase += ", " + " ".join(WORDS[lang][int(c)] for c in code)
        text, secret, parts = f"{opener} {phrase}.", written, groups
    elif kind == "SSN":
        area = rng.choice([n for n in range(1, 900) if n != 666])
        digits = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        written = rng.choice([f"{digits[:3]} {digits[3:5]} {digits[5:]}", f"{digits[:3]}.{digits[3:5]}.{digits[5:]}",
                              f"{digits[:3]}  {digits[3:5]}  {digits[5:]}", digits])
        text = f"{opener} {rng.choice(SOCIAL_PREAMBLE).format(s=written)}"
        secret, parts = written, [digits, digits[:3], digits[5:]]
    elif kind == "PHONE":
        if rng.random() < 0.5:
            pairs = [f"0{rng.randint(1, 9)}"] + [f"{rng.randint(0, 99):02d}" for _ in range(4)]
            written = rng.choice([" ", ".", "-"]).join(pairs)
        else:
            sep = rng.choice(["-", " "])
            written = f"1{rng.randint(3, 9)}{rng.randint(0, 9)}{sep}{rng.randint(0, 9999):04d}{sep}{rng.randint(0, 9999):04d}"
        name = _name(rng)
        text = f"{opener}\n\n{rng.choice(SIGN_OFFS)}\n{name}\n{written}"
        secret, parts = written, [written]
    elif kind == "NAME":
        name = _name(rng)
        style = rng.random()
        if style < 0.35:
            text = f"{opener}\n\n{rng.choice(SIGN_OFFS)}\n{name}"
        elif style < 0.55:
            text = f"{opener}\n\n{name}"
        elif style < 0.8:
            text = f"{opener} You can also reach {rng.choice(RELATIONS)} {name} about it."
        else:
            text = f"{opener} For the record, {rng.choice(CARD_NAME).format(n=name)}."
        secret, parts = name, [p for p in name.replace("-", " ").split() if len(p) >= 3]
    else:
        text, secret, parts = f"{opener} {rng.choice(KEEP_PROSE)}", "", []
    used = [v for v in facts.values() if v in text]
    if kind == "KEEP":
        used.append(text[len(opener) + 1:])
    return {"kind": kind, "text": text, "secret": secret, "secret_parts": parts, "must_keep": used}
