"""Reading a customer's answer to a yes/no question: YES, NO, NOT_ME or UNCLEAR.

Why not a word search: "no, that wasn't me" contains "me", "no, it was me" contains "no", and
"I did not buy anything" contains "I did". A hold released on such a reading hurts a customer,
so the reader works on clauses and gives every negation a scope: a negator ("not", "never",
"-n't") flips the claims that follow it in its own clause and nothing beyond it.

The meaning depends on the question: "I didn't" disowns a payment when asked "was it you?" but
is a plain no to "have you contacted the merchant?". Callers pass the question kind. Disowning
always wins over a bare yes ("yes, that's not mine"), and anything mixed, hedged or off-topic is
UNCLEAR: the caller asks once more rather than guessing.
"""
from __future__ import annotations

import re
import unicodedata
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from intents.dialog import Turn


class Answer(str, Enum):
    YES = "yes"
    NO = "no"
    NOT_ME = "not_me"  # the customer disowns the payment
    UNCLEAR = "unclear"


WAS_IT_YOU = "was_it_you"  # "Would you like to confirm it's you so it can go through?" (hold release offer)
WAS_IT_YOURS = "was_it_yours"  # "We held a payment at Best Buy. Was it you?": a bare "no" disowns it
CONFIRM_ACTION = "confirm_action"  # "Shall I file this dispute?"
MERCHANT_CONTACTED = "merchant_contacted"  # "Have you contacted the merchant?"
BLOCK_CARD = "block_card"  # "Shall I ask for your card to be blocked?"
KINDS = (WAS_IT_YOU, WAS_IT_YOURS, CONFIRM_ACTION, MERCHANT_CONTACTED, BLOCK_CARD)

_EMOJI = {"👍": " yes ", "👌": " ok ", "✅": " yes ", "✔": " yes ", "👎": " no ", "❌": " no ", "✖": " no ",
          "🚫": " no ", "🤷": " maybe ", "🤔": " hmm "}
_CONTRACTIONS = [
    (r"\bcannot\b", "can not"), (r"\b(?:can)'?n?'?t\b", "can not"), (r"\bwon'?t\b", "will not"), (r"\bain'?t\b", "is not"),
    (r"\b(did|does|do|was|were|is|are|has|have|had|could|would|should|must|need)(?:n'?t|'nt)\b", r"\1 not"),
    (r"\bdint\b", "did not"), (r"\bdidin'?t\b", "did not"), (r"\bnvr\b", "never"),
    (r"\b(that|it|he|she|there|what|who)'?s\b", r"\1 is"), (r"\bi'?m\b", "i am"), (r"\bi'?ve\b", "i have"),
    (r"\b(i|you|we|they)'ll\b", r"\1 will"), (r"\b(i|you|we|they)'d\b", r"\1 would"), (r"\b(you|we|they)'re\b", r"\1 are"),
    (r"\bno one\b", "nobody"), (r"\bsome one\b", "someone"), (r"\bsome body\b", "somebody"),
]
# Multi-word expressions, replaced by one marker token before the clause is read (longest first).
_PHRASES = {
    "_hedge_": ["not that i know of", "not that i know", "not that i remember", "not that i recall",
                "not to my knowledge", "not as far as i know"],
    "_unsure_": ["not sure", "not certain", "not 100", "i do not know", "do not know", "no idea", "can not remember",
                 "do not remember", "can not recall", "do not recall", "i guess", "might be", "might have", "could be",
                 "kind of", "sort of", "not really sure"],
    "_yes_": ["go ahead", "please do", "of course", "do it", "sounds good", "that is right", "that is correct",
              "you bet", "i think so", "yes please", "thumbs up", "for sure", "why not", "let it through",
              "go for it", "no problem", "no worries", "all good", "let it go through", "fair enough"],
    "_no_": ["no thanks", "no thank you", "not really", "not yet", "not now", "not right now",
             "i do not think so", "do not think so", "leave it", "forget it", "never mind", "nevermind", "hold on",
             "not at the moment", "rather not", "not today", "thumbs down", "not at all", "maybe later"],
    "_noway_": ["no way", "no chance", "hell no"],
}
_PHRASE_RE = sorted(((p, marker) for marker, ps in _PHRASES.items() for p in ps), key=lambda pm: -len(pm[0]))

YES_WORDS = {"yes", "yeah", "yea", "yeh", "ye", "yah", "ya", "yas", "yep", "yup", "yuh", "yse", "ok", "okay",
             "okey", "okie", "oki", "kk", "sure", "correct", "right", "absolutely", "definitely", "certainly",
             "affirmative", "aye", "indeed", "alright", "aight", "fine", "confirm", "confirmed", "true", "ofc",
             "yessir", "yesh", "_yes_"}
NO_WORDS = {"no", "nope", "nop", "nah", "naw", "na", "nay", "negative", "nein", "_no_", "_noway_"}
_SHORT_ONLY = {"y": "yes", "k": "ok", "n": "no"}  # single letters count only as the whole reply
_UNSURE_WORDS = {"maybe", "perhaps", "possibly", "unsure", "idk", "dunno", "hmm", "hm", "umm", "um", "uh", "huh",
                 "_unsure_"}
_THINK = re.compile(r"\b(?:think|believe|probably|prob|reckon|suppose|presume|assume|guess)\b")
_QUESTION_WORDS = {"what", "which", "who", "why", "how", "where", "when"}
NEGATORS = {"not", "never", "no", "nothing", "none", "neither", "nor"}
_CLAUSE_WORDS = {"but", "however", "though", "although", "and", "because", "cause", "cos", "coz", "plus", "except"}

_ME = {"me", "myself"}
_MINE = {"mine"}
_OTHERS = {"someone", "somebody", "fraud", "fraudulent", "fraudster", "scam", "scammer", "scammed", "stolen", "stole",
           "steal", "hacked", "hacker", "hack", "unauthorised", "unauthorized", "cloned", "skimmed", "compromised",
           "thief", "theft"}
_NOBODY = {"nobody"}
_COPULA = {"was", "is", "were", "be", "am", "are", "been", "twas"}
_SOFT = {"really", "actually", "definitely", "just", "totally", "absolutely", "certainly", "def", "even", "ever",
         "only", "also", "personally", "already", "deffo", "100", "honestly", "literally"}
# Words a reply may open with before its "no" ("wait, no, it wasn't me"): they negate nothing.
_LEAD_FILLER = {"actually", "wait", "oh", "well", "honestly", "sorry", "so", "erm", "er", "err", "ah", "um", "uh", "hey",
                "look", "listen", "hang", "on", "omg", "god", "gosh", "hmm", "hm", "oops", "ugh", "seriously"}
_FIRST = {"i", "we"}
_THIRD = {"someone", "somebody", "they", "he", "she", "husband", "wife", "son", "daughter", "partner", "kid", "kids",
          "friend", "brother", "sister", "mum", "mom", "dad"}
_AUX = {"did", "do", "does", "have", "has", "had", "will", "would", "could", "can", "might", "to"}
_BARE_TAIL = {"not", "never", "it", "that", "this", "so", "already", "yet", "though", "either", "one", "too", "actually"}


def _forms(*bases: str) -> set[str]:
    """Regular inflections ("release", "released", "releasing", "stopped"); irregular ones are listed by hand."""
    out = set()
    for b in bases:
        stem = b[:-1] if b.endswith("e") else b
        out |= {b, b + "s", stem + "ed", stem + "ing", b + b[-1] + "ed", b + b[-1] + "ing"}
    return out


PURCHASE_VERBS = _forms("make", "buy", "purchase", "order", "pay", "spend", "use", "authorise", "authorize", "shop",
                        "recognise", "recognize", "sign", "approve") | {"made", "bought", "paid", "spent", "shopped"}
CONTACT_VERBS = _forms("contact", "call", "phone", "email", "message", "speak", "talk", "chat", "write", "reach", "try",
                       "complain", "ask", "tell", "ring") | {"rang", "spoke", "wrote", "tried", "told", "chatted", "emailed"}
# Action verbs say yes or no to the action being offered, by kind.
_ACTIONS = {
    WAS_IT_YOU: (_forms("release", "unblock", "approve", "allow", "process"), _forms("block", "keep", "leave", "hold", "stop",
                                                                                     "decline", "cancel", "wait")),
    CONFIRM_ACTION: (_forms("file", "submit", "proceed", "continue", "send", "dispute", "raise", "open"),
                     _forms("cancel", "stop", "wait", "leave", "hold", "change", "edit", "fix")),
    BLOCK_CARD: (_forms("block", "freeze", "cancel", "stop", "lock", "disable", "report"), _forms("keep", "leave", "wait")),
    MERCHANT_CONTACTED: (set(), set()),
}


def _normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text or "").lower()
    t = re.sub("[\u2018\u2019\u02bc`´]", "'", t)
    t = re.sub("[\ufe0f\U0001f3fb-\U0001f3ff]", "", t)
    for emoji, word in _EMOJI.items():
        t = t.replace(emoji, f"{word}.")
    t = re.sub(r"(.)\1{2,}", r"\1", t)  # emphasis: "nooooo", "yesss!!!"
    for pattern, repl in _CONTRACTIONS:
        t = re.sub(pattern, repl, t)
    for phrase, marker in _PHRASE_RE:
        t = re.sub(rf"\b{re.escape(phrase)}\b", f" {marker} ", t)
    return t


def _clauses(t: str) -> list[list[str]]:
    out, cur = [], []
    for tok in re.findall(r"_[a-z]+_|[a-z0-9]+|[.,;!?:/()\-]", t):
        if not tok[0].isalnum() and tok[0] != "_" or tok in _CLAUSE_WORDS:
            if cur:
                out.append(cur)
            cur = []
            continue
        cur.append(_canonical(tok))
    if cur:
        out.append(cur)
    return out


def _canonical(tok: str) -> str:
    if tok in YES_WORDS or tok in NO_WORDS or tok.startswith("_"):
        return tok
    squashed = re.sub(r"(.)\1+", r"\1", tok)  # "yess", "noo", "okk", "nahh", "mee"
    return squashed if squashed in YES_WORDS | NO_WORDS | _ME | _MINE else tok


class _Reading:
    def __init__(self) -> None:
        self.polarity: set[Answer] = set()
        self.claims: list[int] = []  # +1 "it was me / I did", -1 "not me / someone else"
        self.contact: list[int] = []  # +1 "I called them", -1 "I haven't"
        self.unsure = False
        self.hedge = False
        self.bare_no = False  # a plain "no", "nope", "no way": nothing said about leaving or keeping it
        self.other_no = False  # "not now", "leave it", "keep it held": a no to the action, not to the deed


def _negations(clause: list[str], upto: int) -> int:
    """Negators before position ``upto`` in the clause.

    Leading interjections ("no, no, it was me", "yes that's not mine") answer the question and
    negate nothing; a "no" or "no way" further in does ("there's no way I bought that")."""
    start = 0
    while start < len(clause) and (clause[start] in YES_WORDS or clause[start] in NO_WORDS or clause[start] in _LEAD_FILLER) \
            and clause[start] != "_noway_":
        start += 1
    return sum(1 for w in clause[start:upto] if w in NEGATORS or w in ("_no_", "_noway_"))


def _sign(clause: list[str], i: int, after: bool = False) -> int:
    n = _negations(clause, i)
    if after and i + 1 < len(clause) and clause[i + 1] in ("nothing", "none", "never"):
        n += 1
    return -1 if n % 2 else 1


def _before(clause: list[str], i: int) -> str | None:
    j = i - 1
    while j >= 0 and (clause[j] in _SOFT or clause[j] in ("not", "never")):
        j -= 1
    return clause[j] if j >= 0 else None


def _verb_subject(clause: list[str], i: int) -> str | None:
    """Whose deed a verb reports: "first", "third", or None when the word is not used as a verb here."""
    prev = _before(clause, i)
    if prev is not None and not (prev in _FIRST or prev in _THIRD or prev in _AUX or prev in YES_WORDS or prev in NO_WORDS
                                 or prev in ("you", "it")):
        return None  # "best buy", "the purchase": a noun, not a deed
    for w in reversed(clause[:i]):
        if w in _FIRST:
            return "first"
        if w in _THIRD:
            return "third"
    return "first"  # elliptical: "didn't buy it", "never bought anything there"


def _read_clause(clause: list[str], r: _Reading, kind: str) -> None:
    if len(clause) == 1 and clause[0] in _SHORT_ONLY:
        clause = [_SHORT_ONLY[clause[0]]]
    if clause[0] in _QUESTION_WORDS:
        r.unsure = True
    yes_verbs, no_verbs = _ACTIONS[kind]
    for i, w in enumerate(clause):
        if w == "_hedge_":
            r.hedge = True
        elif w in _UNSURE_WORDS:
            r.unsure = True
        elif w in YES_WORDS:
            r.polarity.add(Answer.YES if _negations(clause, i) % 2 == 0 else Answer.NO)
        elif w in NO_WORDS:
            r.polarity.add(Answer.NO)
            if w == "_no_":
                r.other_no = True
            else:
                r.bare_no = True
        elif w in _MINE or (w in _ME and (_before(clause, i) in _COPULA or _before(clause, i) in YES_WORDS | NO_WORDS
                                          or _before(clause, i) is None)):
            r.claims.append(_sign(clause, i))
        elif w in _OTHERS:
            r.claims.append(-_sign(clause, i))
        elif w in _NOBODY:
            r.claims.append(1)
        elif w in yes_verbs or w in no_verbs:
            vote = _sign(clause, i) * (1 if w in yes_verbs else -1)
            r.polarity.add(Answer.YES if vote > 0 else Answer.NO)
            r.other_no = r.other_no or vote < 0
        elif w in PURCHASE_VERBS and kind == WAS_IT_YOU:
            who = _verb_subject(clause, i)
            if who == "first":
                r.claims.append(_sign(clause, i, after=True))
            elif who == "third" and _sign(clause, i) > 0:
                r.claims.append(-1)
        elif w in CONTACT_VERBS and kind == MERCHANT_CONTACTED and _verb_subject(clause, i) == "first":
            r.contact.append(_sign(clause, i))
    _bare_aux(clause, r)


def _bare_aux(clause: list[str], r: _Reading) -> None:
    """ "I did", "I haven't", "never did": a deed claim whose verb is the question's own."""
    for i, w in enumerate(clause):
        if w in ("did", "have", "has", "had", "do") and (i == 0 or clause[i - 1] in _FIRST | {"not", "never"} | YES_WORDS | NO_WORDS):
            if all(t in _BARE_TAIL for t in clause[i + 1:]) and (i > 0 or len(clause) > 1):
                sign = _sign(clause, i, after=False) * (-1 if any(t in ("not", "never") for t in clause[i + 1:]) else 1)
                r.claims.append(sign)
                r.contact.append(sign)
                return


def read_answer(text: str | None, kind: str = CONFIRM_ACTION) -> Answer:
    """What the customer's reply means as an answer to a question of ``kind``."""
    if kind not in KINDS:
        raise ValueError(f"unknown question kind {kind!r}")
    r = _Reading()
    for clause in _clauses(_normalise(text or "")):
        _read_clause(clause, r, WAS_IT_YOU if kind == WAS_IT_YOURS else kind)
    if kind in (WAS_IT_YOU, WAS_IT_YOURS):
        answer = _was_it_you(r)
        if answer is Answer.YES and _THINK.search((text or "").lower()):
            return Answer.UNCLEAR  # "I think so", "probably me": a release needs the customer to be sure
        if kind == WAS_IT_YOURS and answer is Answer.NO and r.bare_no and not r.other_no:
            return Answer.NOT_ME  # "Was it you?" - "nope". "Not now" or "leave it" only puts the question off
        return answer
    votes = set(r.polarity)
    if kind == MERCHANT_CONTACTED:
        votes |= {Answer.YES if c > 0 else Answer.NO for c in r.contact}
        if r.hedge:
            votes.add(Answer.NO)
    elif kind == CONFIRM_ACTION and r.claims and Answer.NO in votes:
        return Answer.UNCLEAR  # "no, it wasn't me" to "shall I file it?": no to filing, or no it wasn't them?
    if r.unsure or len(votes) != 1:
        return Answer.UNCLEAR
    return votes.pop()


def claims_own(text: str | None) -> bool:
    """The words say the customer made the payment ("it was me after all"), and nothing disowns it."""
    r = _Reading()
    for clause in _clauses(_normalise(text or "")):
        _read_clause(clause, r, WAS_IT_YOU)
    return any(c > 0 for c in r.claims) and not any(c < 0 for c in r.claims) and not r.hedge


def _was_it_you(r: _Reading) -> Answer:
    mine, not_mine = any(c > 0 for c in r.claims), any(c < 0 for c in r.claims) or r.hedge
    if not_mine and not mine:
        return Answer.NOT_ME  # safety first: a disowned payment is never read as anything else
    if mine and not_mine:
        return Answer.UNCLEAR
    if r.unsure:
        return Answer.UNCLEAR
    if mine:
        return Answer.YES  # "no, it was me": the claim answers the question, the "no" only corrects
    if len(r.polarity) == 1:
        return next(iter(r.polarity))
    return Answer.UNCLEAR


# --------------------------------------------------------------------------- turns
ATTR_UNCLEAR = "unclearAnswer"  # "Intent:Slot" of the question already clarified once
# Questions whose answer must reach their own intent even if Lex heard another intent in it:
# "someone else used my card" to "was it you?" is an answer about the hold, not a new dispute.
RECLAIMABLE = {"ExplainHold:ReleaseHold": WAS_IT_YOU, "ExplainHold:BlockCard": BLOCK_CARD}


def answer_text(turn: "Turn", slot: str) -> str | None:
    """The customer's own words for ``slot``: the transcript when the slot was just asked for.

    Lex's interpreted value comes from a word search over the slot's synonyms ("I did not buy
    anything" holds "I did"), so it is used only when there is no transcript to read."""
    if turn.slot_to_elicit == slot and (turn.transcript or "").strip():
        return turn.transcript
    return turn.slot(slot)


def confirmation_answer(turn: "Turn", kind: str = CONFIRM_ACTION) -> Answer | None:
    """The answer to the intent's confirmation prompt, or None when it was not asked this turn.

    Lex's own Confirmed/Denied is re-read from the transcript: it marks "no, that wasn't me" as
    Denied and cannot tell "yes but not now" from yes."""
    from intents.dialog import ATTR_ASKED

    asked = turn.session.get(ATTR_ASKED) == f"{turn.intent_name}:"
    if turn.confirmation_state not in ("Confirmed", "Denied") and not asked:
        return None
    if (turn.transcript or "").strip():
        return read_answer(turn.transcript, kind)
    return {"Confirmed": Answer.YES, "Denied": Answer.NO}.get(turn.confirmation_state)


def clarified_before(turn: "Turn", slot: str) -> bool:
    return turn.session.get(ATTR_UNCLEAR) == f"{turn.intent_name}:{slot}"


def mark_clarified(session: dict[str, str], turn: "Turn", slot: str) -> dict[str, str]:
    session = dict(session)
    session[ATTR_UNCLEAR] = f"{turn.intent_name}:{slot}"
    return session


def forget_clarified(session: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in session.items() if k != ATTR_UNCLEAR}


def reclaim_answer(turn: "Turn") -> "Turn":
    """Route a clear answer to the question the bot asked, even if Lex switched intents on it."""
    from intents.dialog import ATTR_ASKED

    asked = turn.session.get(ATTR_ASKED, "")
    kind = RECLAIMABLE.get(asked)
    intent, _, slot = asked.partition(":")
    if kind is None or turn.intent_name == intent or not (turn.transcript or "").strip():
        return turn
    if read_answer(turn.transcript, kind) is Answer.UNCLEAR:
        return turn
    return turn.with_(intent_name=intent, slots={slot: turn.transcript}, original_slots={}, slot_to_elicit=slot,
                      confirmation_state="None")
