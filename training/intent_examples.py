"""The Lex intents' sample utterances as labelled BANKING77 training rows (read by ``training.train``).

Why a reviewed table: a Lex intent is not a BANKING77 label. ExplainHold covers both
``declined_card_payment`` ("why was my card declined") and ``pending_card_payment`` ("why is my
payment on hold"); FileDispute covers not-recognised, charged-twice, wrong-amount and refund
utterances; many utterances ("talk to an agent", "status of case DSP-…", "open a dispute") express
no BANKING77 intent at all. So every intent-level sample utterance is listed here, by intent, with
the label it expresses or the reason it is skipped. An utterance that is not in the table (an
intent file changed after this review) is skipped and reported as ``unreviewed``, never guessed.

``{Slot}`` placeholders are filled with realistic values (``SLOT_VALUES``), a few fills per
template, deterministically. Slot-level sample utterances ("{Merchant}", "it ends in
{CardLast4}") are answers to a prompt, not intents, and are not used.

Only training rows come from here: ``training.train`` drops any generated text that equals (after
lower-casing and whitespace/punctuation normalisation) a dev-split text, a BANKING77 training text
or another generated text, so the dev split and its numbers stay comparable.

Imports ``intents.registry`` lazily with the repository root on ``sys.path``; that imports
``chatbot``/``chalicelib`` (pydantic, pydantic-settings, jinja2, PyYAML: scripts/train.sh installs
them into ``.venv-train``).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from training.everyday_examples import everyday_table
from training.talk_examples import talk_table

REPO_ROOT = Path(__file__).resolve().parent.parent

# Realistic slot values; the first ones are the examples the intents themselves use.
SLOT_VALUES: dict[str, list[str]] = {
    "Merchant": ["Amazon", "Blue Bottle", "Netflix", "Uber", "Tesco", "Spotify", "Starbucks",
                 "Apple", "Deliveroo", "Shell"],
    "Amount": ["$42.99", "£12.50", "€89", "$250", "$7.35", "£1,200"],
    "TransactionDate": ["yesterday", "last Friday", "March 3rd", "two days ago", "last week"],
    "CardLast4": ["4242", "1881", "0357", "9920"],
    "CaseId": ["DSP-7K2M9Q", "DSP-4HX82P", "DSP-Q93TZ1"],
    # How customers name a payment in the templates that use it ("charged twice by {TransactionRef}"): the merchant.
    "TransactionRef": ["Amazon", "Netflix", "Uber", "Blue Bottle", "Spotify", "Starbucks",
                       "Amazon Marketplace", "Deliveroo"],
}
FILLS_PER_TEMPLATE = 4

_GENERIC_DISPUTE = "generic dispute request with no reason: BANKING77 has no 'dispute a charge' label"
_NOT_RECEIVED = "goods/service not received: no BANKING77 label (DESIGN.md category not_received)"
_LOOKUP = "looking up a transaction: no BANKING77 label"

# (Lex intent, sample utterance exactly as in intents/*.py) -> BANKING77 label, or None + reason.
TABLE: dict[tuple[str, str], tuple[str | None, str]] = {
    # ExplainHold: declined vs held/pending vs card not working.
    ("ExplainHold", "why was my card declined"): ("declined_card_payment", ""),
    ("ExplainHold", "why was my payment declined"): ("declined_card_payment", ""),
    ("ExplainHold", "my card got declined"): ("declined_card_payment", ""),
    ("ExplainHold", "why is my payment on hold"): ("pending_card_payment", ""),
    ("ExplainHold", "why was my payment held"): ("pending_card_payment", ""),
    ("ExplainHold", "my payment is blocked"): ("declined_card_payment", ""),
    ("ExplainHold", "why did my card not work"): ("card_not_working", ""),
    ("ExplainHold", "my card was refused at {Merchant}"): ("declined_card_payment", ""),
    ("ExplainHold", "why was my {Merchant} payment declined"): ("declined_card_payment", ""),
    ("ExplainHold", "why was the {Amount} payment held"): ("pending_card_payment", ""),
    ("ExplainHold", "my transaction was blocked for fraud"): ("declined_card_payment", ""),
    ("ExplainHold", "you blocked my payment"): ("declined_card_payment", ""),
    ("ExplainHold", "can you release the hold on my payment"): ("pending_card_payment", ""),
    ("ExplainHold", "unblock my payment"): ("declined_card_payment", ""),
    ("ExplainHold", "my purchase didn't go through"): ("declined_card_payment", ""),
    ("ExplainHold", "why is there a hold on my card"): (
        None, ("a hold on the card (not a payment): ambiguous between card_not_working, "
               "pin_blocked and a held payment")),
    ("ExplainHold", "the payment was declined but I have money"): ("declined_card_payment", ""),
    ("ExplainHold", "card declined online"): ("declined_card_payment", ""),
    ("ExplainHold", "release my payment"): ("pending_card_payment", ""),
    ("ExplainHold", "why was my transaction stopped"): ("declined_card_payment", ""),
    # FileDispute: the reason decides the label; no reason, no label.
    ("FileDispute", "I want to dispute a charge"): (None, _GENERIC_DISPUTE),
    ("FileDispute", "dispute a transaction"): (None, _GENERIC_DISPUTE),
    ("FileDispute", "I want to dispute this payment"): (None, _GENERIC_DISPUTE),
    ("FileDispute", "I don't recognise this charge"): ("card_payment_not_recognised", ""),
    ("FileDispute", "I don't recognize a payment on my card"): ("card_payment_not_recognised", ""),
    ("FileDispute", "there's a charge I didn't make"): ("card_payment_not_recognised", ""),
    ("FileDispute", "someone used my card"): ("compromised_card", ""),
    ("FileDispute", "I was charged twice"): ("transaction_charged_twice", ""),
    ("FileDispute", "I was charged twice by {TransactionRef}"): ("transaction_charged_twice", ""),
    ("FileDispute", "I want to dispute the {TransactionRef} payment"): (None, _GENERIC_DISPUTE),
    ("FileDispute", "the merchant charged me the wrong amount"): ("extra_charge_on_statement", ""),
    ("FileDispute", "I never received my order"): (None, _NOT_RECEIVED),
    ("FileDispute", "I returned the item but didn't get a refund"): ("Refund_not_showing_up", ""),
    ("FileDispute", "I cancelled my subscription but they still charged me"): (
        None, "cancelled recurring payment: no BANKING77 label (category cancelled_recurring)"),
    ("FileDispute", "I want a chargeback"): (None, _GENERIC_DISPUTE),
    ("FileDispute", "open a dispute"): (None, _GENERIC_DISPUTE),
    ("FileDispute", "the item was not as described"): (
        None, "not as described: no BANKING77 label (category not_as_described)"),
    ("FileDispute", "report a fraudulent transaction"): ("card_payment_not_recognised", ""),
    ("FileDispute", "I want my money back for a payment"): ("request_refund", ""),
    ("FileDispute", "raise a dispute about {TransactionRef}"): (None, _GENERIC_DISPUTE),
    ("FileDispute", "I want to dispute the {TransactionRef}"): (None, _GENERIC_DISPUTE),
    ("FileDispute", "dispute the {TransactionRef}"): (None, _GENERIC_DISPUTE),
    ("FileDispute", "I was charged twice at {TransactionRef}"): ("transaction_charged_twice", ""),
    ("FileDispute", "I don't recognise a charge from {TransactionRef}"): ("card_payment_not_recognised", ""),
    ("FileDispute", "I don't recognize the {TransactionRef} charge"): ("card_payment_not_recognised", ""),
    ("FileDispute", "there's a charge from {TransactionRef} I didn't make"): ("card_payment_not_recognised", ""),
    # LookupTransaction: a lookup is not a BANKING77 intent. "What is this charge" is left out too:
    # it is as much a lookup as a not-recognised complaint, and the bot's own lookup intent answers it.
    **{("LookupTransaction", u): (None, _LOOKUP) for u in (
        "find a transaction", "look up a payment", "what is this charge",
        "what is this payment on my statement", "I want to check a payment",
        "can you find my payment to {Merchant}", "show me the {Merchant} charge",
        "what was the {Amount} charge", "look up the payment from {TransactionDate}",
        "find the {Merchant} payment from {TransactionDate}", "what is {Merchant} on my statement",
        "I see a charge I want to check", "check my recent transactions",
        "did my payment to {Merchant} go through", "what did I pay {Merchant}",
        "find the charge on my card ending {CardLast4}", "there's a payment I want to look at",
        "what's this transaction", "search my transactions", "show my card payment",
        "is there a payment to {Merchant}", "did {Merchant} charge me")},
    # DisputeStatus: BANKING77 has no dispute/case-status label.
    **{("DisputeStatus", u): (None, "dispute/case status: no BANKING77 label") for u in (
        "what's the status of my dispute", "check my dispute", "any update on my dispute",
        "where is my chargeback", "how is my claim going", "status of case {CaseId}",
        "what happened with dispute {CaseId}", "track my dispute", "is my dispute resolved",
        "show my open disputes", "list my cases", "did I win my dispute",
        "when will my dispute be decided", "update on my complaint about a charge",
        "have you got an answer on my dispute", "check case {CaseId}")},
    # TalkToAgent: BANKING77 has no "speak to a human" label.
    **{("TalkToAgent", u): (None, "asking for a human: no BANKING77 label") for u in (
        "talk to an agent", "speak to a human", "I want to talk to a person", "can I speak to someone",
        "connect me to customer service", "agent please", "human please", "get me a real person",
        "I need help from a person", "transfer me to an agent", "speak to a representative",
        "call me back", "this isn't helping, I want a human", "I want to make a complaint to a person",
        "operator", "let me talk to support")},
    # VerifyIdentity: the requests to be verified are BANKING77's verify_my_identity; the rest are not.
    ("VerifyIdentity", "verify me"): ("verify_my_identity", ""),
    ("VerifyIdentity", "I want to verify my identity"): ("verify_my_identity", ""),
    ("VerifyIdentity", "verify my identity"): ("verify_my_identity", ""),
    ("VerifyIdentity", "confirm it's me"): ("verify_my_identity", ""),
    ("VerifyIdentity", "I need to confirm my identity"): ("verify_my_identity", ""),
    ("VerifyIdentity", "check my identity"): ("verify_my_identity", ""),
    ("VerifyIdentity", "send me a code"): (None, "one-time-code request: no BANKING77 label"),
    ("VerifyIdentity", "send me a verification code"): (None, "one-time-code request: no BANKING77 label"),
    ("VerifyIdentity", "I want to log in"): (None, "log-in request: no BANKING77 label"),
    ("VerifyIdentity", "authenticate me"): ("verify_my_identity", ""),
    ("VerifyIdentity", "can you verify who I am"): ("verify_my_identity", ""),
    ("VerifyIdentity", "I'd like to prove it's me"): ("verify_my_identity", ""),
    ("VerifyIdentity", "security check"): (None, "two words, no clear BANKING77 intent"),
    ("VerifyIdentity", "I have my card here to verify"): (
        None, "an answer during step-up verification, not a request"),
    ("VerifyIdentity", "let me verify"): (None, "too vague: verify what"),
}
TABLE.update(talk_table())  # issue 13's intents, reviewed per intent (training/talk_examples.py)
TABLE.update(everyday_table())  # issue 13 B's everyday phrasings, reviewed one by one (training/everyday_examples.py)

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def normalise(text: str) -> str:
    """Key for duplicate checks: lower case, punctuation dropped, whitespace collapsed."""
    return " ".join(re.sub(r"[^\w$£€.,]+", " ", text.lower()).replace(",", " ").split()).strip(" .")


def fill(template: str, n: int = FILLS_PER_TEMPLATE) -> list[str]:
    """Up to ``n`` distinct fillings of the template's placeholders (deterministic)."""
    slots = _PLACEHOLDER.findall(template)
    if not slots:
        return [template]
    out: list[str] = []
    start = sum(map(ord, template))  # a different, fixed starting value per template
    for i in range(n * 3):
        values = {}
        for j, slot in enumerate(slots):
            pool = SLOT_VALUES[slot]
            values[slot] = pool[(start + i + 2 * j) % len(pool)]
        text = _PLACEHOLDER.sub(lambda m, v=values: v[m.group(1)], template)
        if text not in out:
            out.append(text)
        if len(out) == n:
            break
    return out


def sample_utterances() -> list[tuple[str, str]]:
    """(Lex intent, utterance) for every intent-level sample utterance in ``intents/``."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from intents.registry import all_specs

    return [(spec.name, u) for spec in all_specs() for u in spec.sample_utterances]


def build(labels: list[str], exclude_texts: list[str] = (),
          utterances: list[tuple[str, str]] | None = None) -> tuple[list[tuple[str, str]], dict]:
    """(text, BANKING77 label) training rows and a report of what was added and skipped.

    ``exclude_texts``: texts the generated rows must not duplicate (dev split, BANKING77 train).
    """
    utterances = sample_utterances() if utterances is None else utterances
    known = set(labels)
    seen = {normalise(t) for t in exclude_texts}
    rows: list[tuple[str, str]] = []
    skipped: list[dict] = []
    duplicates: list[str] = []
    for intent, template in utterances:
        label, reason = TABLE.get((intent, template), (None, "unreviewed: not in training/intent_examples.py TABLE"))
        if label is None:
            skipped.append({"intent": intent, "utterance": template, "reason": reason})
            continue
        if label not in known:
            raise ValueError(f"{label!r} is not a BANKING77 label")
        for text in fill(template):
            key = normalise(text)
            if key in seen:
                duplicates.append(text)
                continue
            seen.add(key)
            rows.append((text, label))
    per_label: dict[str, int] = {}
    for _, lab in rows:
        per_label[lab] = per_label.get(lab, 0) + 1
    report = {
        "n_utterances": len(utterances),
        "n_templates_used": len(utterances) - len(skipped),
        "n_rows": len(rows),
        "per_label": dict(sorted(per_label.items())),
        "n_skipped": len(skipped),
        "skipped": skipped,
        "dropped_as_duplicates": duplicates,
        "fills_per_template": FILLS_PER_TEMPLATE,
    }
    return rows, report
