"""Explicit category rules for complaint text: the phrases that decide a dispute category whatever the
classifier says ("charged twice", "never arrived", "cancelled my subscription but they still charge
me"), including the categories BANKING77 has no label for, and the other-product ratio that sends
a mortgage or credit-report complaint to ``out_of_scope``. Shared by the short-text triage
(``nlp.triage``) and, sentence by sentence, the long-text triage (``nlp.longtext``).
"""
from __future__ import annotations

import re

__all__ = ["rule_category", "OOS_RATIO"]



def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


_GOODS = r"(?:order|item|goods|package|parcel|product|purchase|delivery|shipment|tickets?|furniture|laptop|phone case)s?"
_NEG = r"(?:never|not|hasn['’]?t|haven['’]?t|didn['’]?t|did\s+not|has\s+not|have\s+not|still\s+(?:not|hasn['’]?t|haven['’]?t))"

# (rule name, category, pattern), checked in order; the first match wins.
_DISPUTE_RULES: list[tuple[str, str, re.Pattern[str]]] = [
    ("charged_twice", "duplicate_charge", _rx(
        r"\b(?:charged|billed|debited|taken)\s+(?:me\s+)?(?:twice|two\s+times|double)\b|\bdouble[-\s]?(?:charged|billed|charge)\b"
        r"|\bduplicate(?:d)?\s+(?:charge|transaction|payment|debit)s?\b|\bpaid\s+twice\b"
        r"|\b(?:same|one)\s+(?:charge|transaction|payment|purchase)\s+(?:\w+\s+){0,3}twice\b")),
    ("charged_after_cancelling", "cancelled_recurring", _rx(
        r"\b(?:cancel(?:l)?ed|unsubscribed(?:\s+from)?|terminated)\s+(?:my\s+|the\s+|our\s+)?(?:\w+\s+)?(?:subscription|membership|trial|recurring|plan|gym)\b"
        r"[^.!?\n]{0,80}\b(?:still|again|charg|bill|debit|taking|took)"
        r"|\b(?:still|keeps?|continue[sd]?\s+to)\s+(?:being\s+)?(?:charg|bill|debit|tak)\w*[^.!?\n]{0,60}\b(?:after|since|even\s+though|although|despite)\b[^.!?\n]{0,20}\bcancel"
        r"|\bfree\s+trial\b[^.!?\n]{0,60}\b(?:charged|billed|debited)\b"
        r"|\brecurring\s+(?:charge|payment|debit)s?\b[^.!?\n]{0,60}\b(?:after|despite|even\s+though)\b[^.!?\n]{0,20}\bcancel")),
    ("not_as_described", "not_as_described", _rx(
        r"\bnot\s+as\s+(?:described|advertised|pictured)\b|\b(?:arrived|was|were|came|is|are)\s+(?:damaged|broken|defective|faulty|counterfeit)\b"
        r"|\bcounterfeit\b|\b(?:fake|knock-?off)\s+(?:item|product|goods|bag|watch|shoes)\b|\bwrong\s+(?:item|size|colou?r|product|model)\b"
        r"|\bcompletely\s+different\s+(?:from|to|than)\b")),
    ("not_received", "not_received", _rx(
        rf"\b{_GOODS}\b[^.!?\n]{{0,40}}\b{_NEG}\s+(?:yet\s+)?(?:been\s+)?(?:arrived?|delivered|received|come|shipped|turned\s+up)\b"
        rf"|\b{_NEG}\s+(?:yet\s+)?(?:receive[d]?|get|got|gotten)\s+(?:the|my|our|any)\s+(?:\w+\s+)?{_GOODS}\b"
        r"|\bservice\s+(?:was\s+)?(?:never|not)\s+(?:provided|rendered|delivered)\b|\bnever\s+(?:shipped|delivered)\b")),
    ("lost_or_stolen", "lost_or_stolen", _rx(
        r"\b(?:lost|stolen)\s+(?:my\s+)?(?:\w+\s+)?(?:card|wallet|purse|phone)\b|\b(?:card|wallet|purse)\s+(?:was|has\s+been|got|is)\s+(?:lost|stolen|missing)\b"
        r"|\b(?:someone|somebody|thief|they)\s+stole\s+my\s+(?:card|wallet|purse|bag|phone)\b|\bpick-?pocketed\b")),
]

# Products that are clearly not a card payment (CFPB products outside scope). A narrative is out of
# scope when these mentions are at least OOS_RATIO times the card/account-payment words: on the
# CFPB developer files this catches 67% of the out-of-scope narratives by rule alone (the
# classifier sends most others to out_of_scope too) and 5 of 64 dispute-related in-scope ones.
_OOS_RX = _rx(
    r"\bmortgages?\b|\bmortgage\s+servicer\b|\bescrow\b|\bforeclos\w*|\bloan\s+modification\b|\bcredit\s+reports?\b|\bcredit\s+reporting\b"
    r"|\bcredit\s+(?:bureaus?|file|score|history)\b|\bequifax\b|\bexperian\b|\btrans\s?union\b|\bFCRA\b|\bFDCPA\b"
    r"|\bstudent\s+loans?\b|\bnavient\b|\bsallie\s+mae\b|\bnelnet\b|\bfedloan\b|\bdebt\s+collect\w*|\bcollection\s+agency\b"
    r"|\bcollections?\s+account\b|\bauto\s+loan\b|\bcar\s+loan\b|\bvehicle\s+loan\b|\bpayday\s+loans?\b|\btitle\s+loan\b"
    r"|\bpersonal\s+loan\b|\bhard\s+inquir(?:y|ies)\b|\bdispute\s+letter\s+to\s+the\s+bureaus?\b|\bcredit\s+repair\b|\brepossess\w*")
_CARD_RX = _rx(
    r"\bcards?\b|\bmerchants?\b|\bcharged?\b|\bATM\b|\bchargeback\b|\brefund(?:ed)?\b|\bpurchases?\b"
    r"|\btransactions?\b|\bwithdrawals?\b|\bstatement\b|\bchecking\b|\bsavings\b|\bdeposit\b|\bzelle\b|\bpaypal\b|\bwire\b")
OOS_RATIO = 2  # other-product mentions must be at least twice the card-payment words


def rule_category(text: str) -> tuple[str, str] | None:
    """(category, rule name) when the (redacted) text is explicit about it, else None."""
    oos = len(_OOS_RX.findall(text))
    if oos and oos >= OOS_RATIO * len(_CARD_RX.findall(text)):
        return "out_of_scope", "other_product"
    for name, category, rx in _DISPUTE_RULES:
        if rx.search(text):
            return category, name
    return None
