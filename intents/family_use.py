""""My son used it", "it was my wife": a held payment made by someone the cardholder knows.

Why not the fraud path at once: a family member's use is not fraud by itself. Whether it is the
cardholder's payment turns on permission: a card lent to a partner makes their purchases the
cardholder's own (Regulation E counts a transfer by someone the consumer gave the card to as
authorised), while a child who took the card from a wallet made an unauthorised payment. So the
assistant asks whether they had permission, unless the customer already said; "with my
permission" goes on as "it was me" (release after step-up verification), "without my
permission" as "not me" (the payment stays held, the fraud team gets it, a card block is offered).
Who it was is kept in the fraud team's context, never in a session attribute.
"""
from __future__ import annotations

import re

from intents.answers import Answer, read_answer, CONFIRM_ACTION

WHO = (r"son|daughter|wife|husband|partner|kid|kids|child|children|boyfriend|girlfriend|fiance|fiancee|"
        r"mum|mom|mother|dad|father|brother|sister|friend|flatmate|roommate|housemate|grandson|granddaughter|"
        r"nephew|niece|teenager|carer|family|hubby|missus|bf|gf")
_FAMILY = re.compile(rf"\b(?:my|our)\s+(?:[\w-]+\s+){{0,3}}?({WHO})\b", re.I)
_WITHOUT = re.compile(
    r"\bwithout\s+(?:my\s+|our\s+|me\s+|us\s+)?(?:permission|asking|consent|knowing|knowledge|telling|saying|"
    r"agreement|ok|okay)|\bbehind my back\b|\b(?:took|taken|nicked|pinched|stole|stolen|swiped)\b|"
    r"\bnot (?:allowed|supposed|meant)\b|\b(?:didn'?t|did not|never) (?:ask|tell|say|let|give|allow|agree)|"
    r"\bno permission\b|\bhad no right\b|\bunauthori[sz]ed\b", re.I)
_WITH = re.compile(
    r"\bwith (?:my |our )?(?:permission|consent|blessing|ok|okay|card)\b|\b(?:is|was|he'?s|she'?s|they'?re) allowed\b|"
    r"\bi (?:let|lent|gave|allowed|told|said)\b|\b(?:that'?s|it'?s|its) (?:fine|ok|okay|alright|all right)\b|"
    r"\bi knew\b|\bi know (?:about|he|she|they)\b|\bhas (?:my|a) card\b|\buses my card\b", re.I)


def family_member(text: str | None) -> str | None:
    """The person the customer says used the card ("son"), or None when no one they know is named."""
    m = _FAMILY.search(text or "")
    return m.group(1).lower() if m else None


def permission_in(text: str | None) -> Answer | None:
    """What the words say about permission: YES, NO (not authorised), or None when they say nothing."""
    t = text or ""
    if _WITHOUT.search(t):
        return Answer.NO  # safety first: "I let him use it, but not for this, he took it" is not authorised
    if _WITH.search(t):
        return Answer.YES
    return None


def read_permission(text: str | None) -> Answer:
    """The answer to "did they have your permission?": YES, NO or UNCLEAR (never NOT_ME)."""
    low = (text or "").lower()
    said = permission_in(text)
    if said is Answer.NO:
        return said
    answer = said or read_answer(text, CONFIRM_ACTION)
    if answer is Answer.YES and re.search(r"\bbut\b", low) and re.search(r"\bnot\b|n'?t\b", low):
        return Answer.UNCLEAR  # "yes, but not for that much": a person sorts out what was agreed
    if answer is Answer.UNCLEAR and re.search(r"\b(?:no|nope|nah|not)\b", low) \
            and not re.search(r"\b(?:yes|yeah|yep|sure|ok|okay|know|idea|certain|remember|maybe|perhaps|think)\b", low):
        return Answer.NO  # "no, not this time": any plain refusal of permission is a no
    return answer if answer in (Answer.YES, Answer.NO) else Answer.UNCLEAR
