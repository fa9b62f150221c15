"""Names the trigger matcher cannot see: signatures, other languages, relatives, the name on the card.

Why a component of its own (``da_pii_names_extra``, after ``da_pii_names`` in ``pipeline.cfg``):
the trigger matcher (``nlp.components.NameMatcher``, held to its spaCy twin by the parity test)
finds a name after "my name is", "Dear", "Regards,". Real letters end otherwise: the name alone
on the last line ("...escalate to the CFPB if necessary.\\n\\nAngela Brooks"), under a sign-off in
the writer's language ("Cordialement,", "Mit freundlichen Grüßen", "Atentamente,"), with a title
or a phone below it, before the quoted mail. Customers also name other people ("my husband Pedro
Barros", "my assistant Jennifer Walsh") and read out the card ("my name on the card is ...").
These rules go beyond the reference on purpose: ``training/spacy_parity.py`` reports what they add
as deliberate additions, apart from the engine parity it checks.

It also takes back what the matcher over-reads: "Dear Mortgage Servicing Department" is a
department, not "Dear [NAME] Department". Every name found (here or by the matcher) is redacted
wherever its parts appear again ("Hi Linh," after "Linh Nguyen"), and names from the mail's own
headers (the sender's display name) are redacted in the body by ``known_name_spans``.

Rules only read the text: capitalised words that are not in the stop lists, where the layout or
a phrase says a person is named. A sentence never becomes a name (it has lowercase words or
sentence punctuation), nor does a heading made of ordinary words (stop lists).
"""
from __future__ import annotations

import re
from typing import Iterable

from nlp import patterns as P

__all__ = ["ExtraNames", "SIGN_OFF_RE", "ORG_WORDS", "name_line", "signature_spans", "phrase_spans",
           "known_name_spans", "add_spans", "stop_words"]

# Whole-line sign-offs, by language (a name follows on the same line or the next).
_SIGN_OFFS = (
    # en
    r"(?:best|kind|warm|warmest|many|with)\s+(?:regards|wishes|thanks)|regards|sincerely(?:\s+yours)?"
    r"|yours\s+(?:sincerely|faithfully|truly)|respectfully(?:\s+yours)?|thanks(?:\s+(?:again|in\s+advance|so\s+much))?"
    r"|thank\s+you(?:\s+(?:again|in\s+advance|so\s+much))?|many\s+thanks|cheers|best|all\s+the\s+best|take\s+care"
    # fr
    r"|(?:bien\s+)?cordialement|bien\s+à\s+vous|(?:sincères|meilleures|bien\s+sincères)?\s*salutations(?:\s+distinguées)?"
    r"|merci(?:\s+beaucoup|\s+d'avance|\s+d’avance)?|bonne\s+(?:journée|soirée|réception)|amicalement|respectueusement"
    # de
    r"|mit\s+freundlichen\s+gr(?:ü|ue|u)(?:ß|ss)en|(?:freundliche|viele|beste|liebe|herzliche)\s+gr(?:ü|ue|u)(?:ß|ss)e"
    r"|gr(?:ü|ue|u)(?:ß|ss)e|gruß|mfg|lg|vielen\s+dank|danke(?:\s+schön)?"
    # es
    r"|atentamente|saludos(?:\s+cordiales)?|un\s+(?:cordial\s+)?saludo|cordialmente|(?:muchas\s+)?gracias|un\s+abrazo"
    # it
    r"|grazie(?:\s+mille)?|(?:cordiali|distinti)\s+saluti|saluti|un\s+saluto"
    # pt
    r"|atenciosamente|obrigad[oa]|abraços|(?:com\s+os\s+melhores\s+)?cumprimentos|saudações"
    # nl
    r"|met\s+vriendelijke\s+groet(?:en)?|groet(?:en|jes)?")
SIGN_OFF_RE = re.compile(rf"(?i)^\s*(?:{_SIGN_OFFS})\s*[,.!:;\-–—]*\s*$")
# "Thanks, Bob" / "Saludos - Marta"; without punctuation only after an unambiguous sign-off
# ("Thanks Bob", "Kind regards Jane Doe"), never after "Best" ("Best Buy").
_SIGN_OFF_THEN_NAME_RE = re.compile(
    rf"(?i:^\s*(?:(?:{_SIGN_OFFS})\s*[,!\-–—]+|(?:thanks|thank\s+you|cheers|(?:kind|best|warm)\s+regards|regards|many\s+thanks"
    rf"|cordialement|saludos|grazie|danke|merci|gracias))\s*)(?P<name>.+?)\s*$")

# Words of a department, a team or a company: a "name" followed by or holding one is not a person
# ("Dear Mortgage Servicing Department", "Consumer Financial Protection Bureau").
ORG_WORDS = frozenset("""
team teams department dept servicing service services support office bank banking desk unit center centre
relations operations committee billing claims collections inc llc ltd plc gmbh corp corporation company
group agency bureau division branch helpdesk kundenservice kundendienst abteilung servicio departamento
banco équipe equipe banque
""".split())
# Other words that are never part of a signature name (headings, titles, mail furniture).
NOT_NAME_WORDS = frozenset("""
customer customers care help dispute disputes fraud card cards account accounts order orders summary
total receipt invoice payment payments details premium annual plan mortgage loan loans credit debit co
sent iphone android outlook gmail confidential confidentiality notice disclaimer unsubscribe subject date
original message forwarded analyst senior director associate manager officer assistant president vice head
chief lead specialist representative consultant engineer finance legal coffee shop store restaurant hotel
airlines market pharmacy online travel tours insurance atención atencion cliente clientes equipo sav dear
hello hi thanks thank regards best kind warm yours sincerely cheers please note important urgent re fw
fwd from to cc bcc tel phone mobile email e-mail fax web www transaction transactions pending refund
refunds charge charges charged declined transfer transfers balance statement deposit withdrawal atm cash fee
fees interest overdraft request issue problem question complaint status update reference number amount
time money purchase purchases subscription cancel cancelled canceled cancellation missing wrong double
duplicate unauthorized unauthorised stolen lost blocked frozen held hold
""".split())
# Heading words: never a line of a signature name ("Chapter Three"), though a person may be "Megan One".
HEADING_WORDS = frozenset("""
chapter part section page step appendix annex item items note notes draft attachment attachments
zero one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty hundred
thousand first second third fourth fifth last next new
""".split())
PARTICLES = frozenset({"de", "da", "del", "della", "di", "van", "von", "der", "den", "du", "la", "le", "dos",
                       "das", "y", "bin", "ibn", "al", "ter", "ten", "st.", "e", "Ó", "Ní", "Uí", "Mac", "Nic"})
_HONORIFIC_RE = re.compile(r"(?i)^(?:mr|mrs|ms|miss|mx|dr|prof|sir|herr|frau|sr|sra|srta|señor|señora|don|doña|"
                           r"m|mme|mlle|madame|monsieur|sig|sig\.ra|signor|signora)\.?\s+")
_CREDENTIALS_RE = re.compile(r"(?:,\s*(?:[A-Z]{2,5}|Jr\.?|Sr\.?|Ph\.?D\.?|Esq\.?|M\.?D\.?|I{2,3}|IV))+\s*$")
_MERCHANTS = frozenset(m.lower() for m in P.KNOWN_MERCHANTS)
_MONTHS_DAYS = frozenset(P.MONTHS) | frozenset(P.WEEKDAYS)
_STOP = ORG_WORDS | NOT_NAME_WORDS | HEADING_WORDS | _MONTHS_DAYS


def stop_words(not_names: Iterable[str] = ()) -> frozenset[str]:
    """The stop list: department/heading words, months and weekdays, plus the matcher's
    ``NOT_NAMES`` (passed in by ``nlp.components``, which registers this component)."""
    return _STOP | frozenset(not_names)


def _namey(tok: str, stop: frozenset[str]) -> bool:
    """A capitalised word (or an initial "J.") that is not a stop word, a merchant or shouting."""
    word = tok.rstrip(".") if len(tok.rstrip(".")) == 1 else tok
    if not word or not word[0].isupper() or word.lower() in stop or word.lower() in _MERCHANTS:
        return False
    if len(word) > 1 and word.isupper():
        return False
    return all(ch.isalpha() or ch in "'’-" for ch in word) and any(ch.islower() for ch in word) or len(word) == 1


def name_line(line: str, stop: frozenset[str], max_tokens: int = 4) -> tuple[int, int] | None:
    """(start, end) in ``line`` of the name when the whole line is one (honorific and letters after
    a comma, "Wei Chen, CPA", allowed around it); None otherwise."""
    body = line.rstrip()
    cred = _CREDENTIALS_RE.search(body)
    if cred:
        body = body[:cred.start()]
    start = len(body) - len(body.lstrip())
    hon = _HONORIFIC_RE.match(body[start:])
    if hon:
        start += hon.end()
    tokens = body[start:].split()
    names = [t for t in tokens if t not in PARTICLES]
    if not names or len(names) > max_tokens or not all(_namey(t, stop) for t in names):
        return None
    if tokens[0] in PARTICLES or tokens[-1] in PARTICLES or (len(names) == 1 and len(names[0].rstrip(".")) < 2):
        return None
    return start, len(body.rstrip())


_PHONE_LINE_RE = re.compile(r"(?i)^\s*(?:(?:tel|tél|phone|mobile|mob|cell|direct|fax|t|m|p|móvil|movil|handy|telf?)"
                            r"\.?\s*[:.]?\s*)?(?P<num>\+?[\d(][\d\s().\-/]{6,}\d)\s*$")
_EMAIL_LINE_RE = re.compile(r"^\s*\S+@\S+\s*$|^\s*(?:https?://|www\.)\S+\s*$|^\s*\[(?:EMAIL|PHONE)\]\s*$")
_TITLE_LINE_RE = re.compile(r"^[^.!?:;]{2,60}$")
_CONTACT_LINE_RE = re.compile(r"(?i)^\s*(?:direct|mobile|mob|tel|tél|phone|fax|cell|office|t|m|p|e|email|e-mail|web)\s*[.:]")

def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _tail_ok(line: str) -> bool:
    """A line that may follow a signature name: a phone, an address line of a mail, a job title."""
    return bool(_PHONE_LINE_RE.match(line) or _EMAIL_LINE_RE.match(line) or _CONTACT_LINE_RE.match(line)
                or _TITLE_LINE_RE.match(line.strip()))


def signature_spans(text: str, stop: frozenset[str], max_tokens: int = 4) -> list[P.Span]:
    """Names (and phones under them) in sign-off blocks: after a sign-off line in any language, on
    the sign-off line itself ("Thanks, Bob"), or alone at the head of a paragraph of signature
    lines (see ``_ends_letter``); never on the text's first line (an e-mail's subject)."""
    lines = _lines(text)
    out: list[P.Span] = []
    blank = [not line.strip() for _, line in lines]
    for i, (pos, line) in enumerate(lines):
        if blank[i] or SIGN_OFF_RE.match(line):
            continue
        prev = i - 1
        while prev >= 0 and blank[prev] and i - prev <= 2:
            prev -= 1
        after_sign_off = prev >= 0 and not blank[prev] and bool(SIGN_OFF_RE.match(lines[prev][1]))
        span = name_line(line, stop, max_tokens)
        found = None
        if span is not None and after_sign_off:
            found = span
        elif span is not None and i > 0 and blank[i - 1] and _ends_letter(lines, blank, i):
            found = span
        else:
            m = _SIGN_OFF_THEN_NAME_RE.match(line)
            if m and not SIGN_OFF_RE.match(line):
                inner = name_line(m.group("name"), stop, max_tokens)
                if inner is not None:
                    found = (m.start("name") + inner[0], m.start("name") + inner[1])
        if found is None:
            continue
        out.append(P.Span(pos + found[0], pos + found[1], "NAME"))
        for j in range(i + 1, min(i + 4, len(lines))):  # the phone lines of the block
            if blank[j]:
                break
            ph = _PHONE_LINE_RE.match(lines[j][1])
            if ph and 7 <= sum(c.isdigit() for c in ph.group("num")) <= 15:
                out.append(P.Span(lines[j][0] + ph.start("num"), lines[j][0] + ph.end("num"), "PHONE"))
    return out


def _ends_letter(lines: list[tuple[int, str]], blank: list[bool], i: int) -> bool:
    """The paragraph from line ``i`` is a signature (the name, then only phone / mail / title lines)
    and it ends the text, or it names first and last name (whatever follows: the quoted mail, a
    disclaimer, a forwarded receipt)."""
    j = i + 1
    while j < len(lines) and not blank[j]:
        if not _tail_ok(lines[j][1]):
            return False
        j += 1
    while j < len(lines) and blank[j]:
        j += 1
    if j >= len(lines):
        return True
    # More follows (the quoted mail, a disclaimer, a forwarded receipt): a first-and-last name
    # only; a lone capitalised word mid-text is too weak.
    return len([t for t in lines[i][1].split() if t not in PARTICLES]) >= 2


_NAME_SEQ = r"(?P<name>[^\W\d_][\w'’\-]*\.?(?:[ \t]+(?:(?:de|da|del|van|von|der|di|du|la|le|dos|y)[ \t]+)?[^\W\d_][\w'’\-]*\.?){0,3})"
_RELATIVES = (
    r"(?i:\b(?:my|our|his|her|their)\s+(?:husband|wife|spouse|partner|son|daughter|mother|mom|mum|father|dad|"
    r"brother|sister|assistant|colleague|co-worker|boss|manager|lawyer|attorney|accountant|friend|neighbou?r|"
    r"fianc[ée]e?|caregiver|carer|guardian|grandson|granddaughter|grandmother|grandfather|grandma|grandpa|uncle|"
    r"aunt|nephew|niece|cousin|secretary|advis[eo]r|landlord|tenant|roommate|flatmate|employer|employee)"
    r"|\bmi\s+(?:esposo|esposa|marido|mujer|hijo|hija|madre|padre|hermano|hermana|pareja|abogad[oa]|asistente)"
    r"|\b(?:mon|ma)\s+(?:mari|femme|fils|fille|mère|père|frère|s(?:œ|oe)ur|assistante?|avocate?|conjointe?|compagne?)"
    r"|\bmeine?\s+(?:mann|frau|sohn|tochter|mutter|vater|bruder|schwester|assistentin|assistent|anwalt|anwältin))"
    r"[ \t]*,?[ \t]+")
_SELF = (
    r"(?i:\b(?:(?:my|the)\s+)?(?:full\s+|legal\s+)?name\s+on\s+(?:the|my)\s+(?:card|account)(?:\s+is|\s+reads|\s+says|\s+shows|\s*:)"
    r"|\bcard\s*holder(?:'s|’s)?\s+name\s*(?:is|:)|\bname\s+on\s+card\s*:|\b(?:in|under)\s+the\s+name\s+(?:of\s+)?"
    r"|\bmy\s+(?:full|legal)\s+name\s+is|\bme\s+llamo|\bmi\s+nombre\s+(?:completo\s+)?es|\bje\s+m['’]appelle"
    r"|\bmon\s+nom\s+est|\bich\s+hei(?:ß|ss)e|\bmein\s+name\s+ist|\bmi\s+chiamo|\b(?:o\s+)?meu\s+nome\s+é"
    r"|\bnombre\s+del\s+titular\s*:|\btitular\s*:|\bsigned\s*[,:])[ \t]*")
_GREETING = (
    r"(?i:\b(?:hola|hallo|bonjour|bonsoir|salut|ciao|ol[áa]|estimad[oa]s?|querid[oa]|car[oa]|liebe[r]?|"
    r"sehr\s+geehrte[r]?|geachte)\b)[ \t,]+(?:(?i:herr|frau|sr\.?|sra\.?|srta\.?|señor|señora|don|doña|m\.|mme\.?|"
    r"madame|monsieur|mlle\.?|sig\.?|sig\.ra|signor[ae]?|dr\.?)[ \t]+)?")
PHRASE_RE = re.compile(rf"(?:{_RELATIVES}|{_SELF}|{_GREETING}){_NAME_SEQ}")


def phrase_spans(text: str, stop: frozenset[str]) -> list[P.Span]:
    """Names after a relative or role ("my husband Pedro Barros"), the name read off the card, a
    self-introduction or a greeting in another language; only its capitalised words are taken."""
    out = []
    for m in PHRASE_RE.finditer(text):
        words = m.group("name").split()
        keep: list[str] = []
        for w in words:
            bare = w.rstrip(".,")
            if bare in PARTICLES and keep:
                keep.append(w)
                continue
            initial = len(bare) == 1 and bare.isupper() and w.endswith(".") and bool(keep)
            if not _namey(bare, stop) or (len(bare) < 2 and not initial):
                break
            keep.append(w)
        while keep and keep[-1] in PARTICLES:
            keep.pop()
        if keep:
            end = m.start("name") + _span_len(m.group("name"), len(keep))
            if text[end - 1] in ".," and len(keep[-1].rstrip(".,")) > 1:
                end -= 1  # the sentence's full stop, not an initial's ("J.")
            out.append(P.Span(m.start("name"), end, "NAME"))
    return out


def _span_len(s: str, n_words: int) -> int:
    """Characters of ``s`` up to the end of its ``n_words``-th word (words may be tab-separated)."""
    it = list(re.finditer(r"\S+", s))[:n_words]
    return it[-1].end() if it else 0


_SENTENCE_START_RE = re.compile(r"(?:^|[.!?]\s+|\n\s*)$")


def _mentions(text: str, names: Iterable[str], stop: frozenset[str]) -> list[P.Span]:
    """Every other mention of the names and of their parts ("Linh" of "Linh Nguyen"); a first name
    at the start of a sentence counts only when it is addressed ("Mark, there's a charge"), since
    "Will you refund it?" is not about Will Parker."""
    out: list[P.Span] = []
    parts: dict[str, bool] = {}  # part -> is a first name (may also be a word: "Will", "Mark")
    for full in names:
        for m in re.finditer(rf"(?<![\w@.]){re.escape(full)}(?![\w@])", text):
            out.append(P.Span(m.start(), m.end(), "NAME"))
        words = [w.rstrip(".,") for w in full.split()]
        if len(words) > 1:
            for k, w in enumerate(words):
                if len(w) >= 3 and w not in PARTICLES and _namey(w, stop):
                    parts[w] = parts.get(w, False) or k == 0
    for part, first in parts.items():
        for m in re.finditer(rf"(?<![\w@.\-'’]){re.escape(part)}(?![\w@\-'’])", text):
            at_start = _SENTENCE_START_RE.search(text, max(0, m.start() - 3), m.start())
            if first and at_start and not text.startswith(",", m.end()):
                continue
            out.append(P.Span(m.start(), m.end(), "NAME"))
    return out


def _org_name(text: str, sp: P.Span, stop: frozenset[str]) -> bool:
    """A NAME that is followed by, or holds, a department/team word ("Mortgage Servicing Department")."""
    words = text[sp.start:sp.end].lower().split()
    nxt = re.match(r"[ \t]+([^\W\d_][\w\-]*)", text[sp.end:sp.end + 40])
    return any(w in ORG_WORDS for w in words) or (nxt is not None and nxt.group(1).lower() in ORG_WORDS)


def add_spans(spans: list[P.Span], extra: Iterable[P.Span]) -> list[P.Span]:
    """``spans`` plus each extra span that overlaps none of them (nor an earlier extra), in order."""
    kept = list(spans)
    for sp in sorted(extra, key=lambda s: (s.start, -(s.end - s.start))):
        if all(sp.end <= k.start or k.end <= sp.start for k in kept):
            kept.append(sp)
    return sorted(kept, key=lambda s: s.start)


def known_name_spans(text: str, names: Iterable[str], not_names: Iterable[str] = ()) -> list[P.Span]:
    """Mentions of people the caller already knows by name (a mail's sender display name:
    "Delaney, Mark" or "Mark Delaney"), whole or in parts; organisations and one-word names are
    skipped (a one-word display name is usually a company: "StreamMax")."""
    stop = stop_words(not_names)
    people = []
    for raw in names:
        raw = (raw or "").strip().strip('"\'')
        if "," in raw:
            last, _, first = raw.partition(",")
            raw = f"{first.strip()} {last.strip()}"
        words = [w for w in raw.split() if w not in PARTICLES]
        if len(words) >= 2 and all(_namey(w, stop) for w in words):
            people.append(" ".join(raw.split()))
    return _mentions(text, people, stop) if people else []


class ExtraNames:
    """Pipeline component ``da_pii_names_extra``: signature, phrase and header-free name rules."""

    assigns = "pii_spans"

    def __init__(self, tokenizer: object = None, max_name_tokens: int = 4, not_names: Iterable[str] = ()):
        if int(max_name_tokens) < 1:
            raise ValueError("max_name_tokens must be at least 1")
        self.max_name = int(max_name_tokens)
        self.stop = stop_words(not_names)

        self._merchants: frozenset[str] | None = None

    @property
    def merchants(self) -> frozenset[str]:
        """Merchant names and aliases of the directory, lower-cased: "Blue Apron" alone on the last
        line of a chat message is the merchant, not a signature. Read on first use."""
        if self._merchants is None:
            from chalicelib.payments.merchants import MERCHANTS

            self._merchants = _MERCHANTS | frozenset(p.lower() for m in MERCHANTS for p in (m.name, *m.aliases))
        return self._merchants

    def __call__(self, doc):
        text = doc.text
        spans = [s for s in doc.pii_spans if s.type != "NAME" or not _org_name(text, s, self.stop)]
        found = signature_spans(text, self.stop, self.max_name) + phrase_spans(text, self.stop)
        found = [s for s in found if s.type != "NAME" or not (_org_name(text, s, self.stop)
                                                               or text[s.start:s.end].lower() in self.merchants)]
        names = {text[s.start:s.end] for s in spans + found if s.type == "NAME"}
        doc.pii_spans = spans + found + _mentions(text, names, self.stop)
        return doc
