"""LostCard: a lost or stolen card is frozen at once, then handed to the fraud team as a priority.

Why freeze before anything else: every minute a stolen card stays open is money the customer may
lose. The freeze goes through the card-management adapter (chalicelib.fraud.actions; the local
fake sets Card.status), is confirmed in plain words, and the fraud queue gets the handoff with
the cards frozen so the customer never repeats the story. Disputes for payments they do not
recognise are offered in the same breath.
"""
from __future__ import annotations

import re

from chalicelib.core.models import CardStatus
from intents.dialog import Button, Card, Decision, Turn
from intents.spec import IntentSpec
from intents.talk_text import say
from intents.handoff import escalate
from intents.identity_gate import require_identity

REASON = "lost_card"
QUEUE, PRIORITY = "fraud", "P1"

SPEC = IntentSpec(
    name="LostCard",
    description="Freeze a lost or stolen card and hand over to the fraud team.",
    sample_utterances=[
        "I lost my card", "my card was stolen", "my wallet was stolen", "someone stole my card",
        "my wallet was taken, please stop my card", "freeze my card", "block my card",
        "I can't find my card", "my purse was stolen", "my bag was stolen with my cards in it",
        "lost card", "stolen card, please block it", "my card was stolen, shut it down", "I've lost my wallet",
        "my card is missing", "I think I dropped my card somewhere", "my card got nicked",
        # everyday phrasing (issue 13 part B): street words, slang, UK and US wording
        'my card has gone missing',
        "I've misplaced my card",
        'someone has taken my card',
        'I left my card somewhere',
        'my card was taken',
        'my debit card is lost',
        'I had my wallet stolen',
        'I was pickpocketed',
        'I got mugged',
        'lost my purse with my cards',
    ],
    fulfillment_code_hook=True,
)

# BANKING77 labels (nlp.taxonomy) that mean this intent although the taxonomy routes them to a person.
LABELS = frozenset({"lost_or_stolen_card", "compromised_card"})


# A loss in the customer's own words ("someone nicked my purse with the card in it"): the loss word
# must be about the card or what holds it, so "money taken from my card" is a dispute, not a loss.
_HOLDER = r"(?:debit |credit |bank )?(?:card|cards|wallet|purse|handbag|bag|phone)"
_LOSS = re.compile(
    r"\b(?:lost|stole|stolen|nicked|pinched|snatched|dropped|can'?t find|cannot find|misplaced)\s+(?:my\s+|our\s+|the\s+)?" + _HOLDER
    + r"\b|\b" + _HOLDER + r"\s+(?:was|were|got|has|'s|is|have)\s+(?:just\s+|been\s+|just\s+been\s+|gone\s+)?"
    + r"(?:lost|stolen|nicked|pinched|taken|snatched|missing)\b"
    + r"|\b(?:i was|i got|i've been|i have been|got)\s+(?:robbed|mugged|pickpocketed)\b")


# The card is back ("I found my lost card", "my wallet turned up"): nothing to freeze. A theft in
# the same message ("found my wallet but the card was stolen from it") is still a loss.
_FOUND = re.compile(
    r"\b(?:found|recovered|got\s+back)\s+(?:my\s+|our\s+|the\s+)?(?:lost\s+|missing\s+|old\s+)?" + _HOLDER
    + r"\b|\b" + _HOLDER + r"\s+(?:has\s+|have\s+|just\s+)?(?:turned\s+up|been\s+found|was\s+found|is\s+back)\b"
    + r"|\bfound\s+it\b")
_STOLEN = re.compile(r"\b(?:stolen|stole|nicked|pinched|snatched|robbed|mugged|pickpocketed)\b")


def reads_as_found(text: str) -> bool:
    """True when the customer says their lost card (or what holds it) is back, with no theft named."""
    low = (text or "").lower().replace("’", "'")
    return bool(_FOUND.search(low)) and not _STOLEN.search(low)


def reads_as_lost(text: str, label: str | None = None) -> bool:
    """True when the classifier names a lost/stolen card, or the words say a card (or what holds it)
    is gone; never when the customer says it is found again."""
    low = (text or "").lower().replace("’", "'")
    swallowed = re.search(r"\b(?:atm|cash ?machine|cashpoint)\b", low)  # kept by a machine: an ATM problem
    return not reads_as_found(low) and (label in LABELS or bool(_LOSS.search(low) and not swallowed))


CARD = Card(title="Anything you don't recognise?", buttons=(
    Button("Dispute a payment", "I don't recognise a charge"),
    Button("Check recent payments", "Look up a payment"),
))


def card_manager(turn: Turn):
    """The bank's card-management adapter when one is wired into the services; the local fake otherwise."""
    from chalicelib.fraud.actions import LocalCardManagement

    return getattr(turn.services, "cards", None) or LocalCardManagement(turn.services.store)


def _named_last4(text: str) -> set[str]:
    return set(re.findall(r"(?<!\d)(\d{4})(?!\d)", text or ""))


def freeze_cards(turn: Turn) -> tuple[list[str], list[str]]:
    """(last 4 of cards frozen now, last 4 of cards already frozen or blocked): the card the customer
    named, or every card of theirs when they named none (a stolen wallet holds them all)."""
    customer = turn.identity.customer_id
    cards = turn.services.store.cards.list_for_customer(customer)
    named = _named_last4(turn.transcript) & {c.last4 for c in cards}
    chosen = [c for c in cards if not named or c.last4 in named]
    frozen, already = [], []
    manager = card_manager(turn)
    for c in chosen:
        if c.status is CardStatus.active:
            manager.set_status(customer, c.card_id, CardStatus.frozen, REASON)
            frozen.append(c.last4)
        else:
            already.append(c.last4)
    return frozen, already


def _cards_phrase(last4s: list[str]) -> str:
    ends = sorted(last4s)
    return ("card ending " + ends[0]) if len(ends) == 1 else "cards ending " + ", ".join(ends[:-1]) + " and " + ends[-1]


def found_again(turn: Turn) -> Decision:
    """The card is back: nothing is frozen and no one is called; what the customer can do with it."""
    cards = turn.services.store.cards.list_for_customer(turn.identity.customer_id)
    stopped = [c.last4 for c in cards if c.status is not CardStatus.active]
    return Decision(action="ElicitIntent", intent_state="Fulfilled", session=dict(turn.session),
                    messages=[say("lost_card_found", cards=_cards_phrase(stopped) if stopped else "",
                                  many=len(stopped) > 1, active=bool(cards) and not stopped)],
                    card=CARD, facts={"card_found": True, "cards_stopped": stopped})


def handle(turn: Turn) -> Decision:
    gate = require_identity(turn)
    if gate is not None:
        return gate
    if reads_as_found(turn.transcript):
        return found_again(turn)
    frozen, already = freeze_cards(turn)
    from chalicelib.tickets.sla import expected_wait

    messages = []
    if frozen:
        messages.append(say("lost_card_frozen", cards=_cards_phrase(frozen), many=len(frozen) > 1))
    if already:
        messages.append(say("lost_card_already", cards=_cards_phrase(already), many=len(already) > 1))
    messages.append(say("lost_card_handoff", wait=expected_wait(QUEUE, PRIORITY, ahead=10**6).phrase))
    handed = escalate(turn, REASON, " ".join(messages),
                      {"queue": QUEUE, "priority": PRIORITY, "cards_frozen": frozen, "cards_already_stopped": already})
    handed.messages.append(say("lost_card_disputes"))
    handed.card = CARD
    handed.facts.update({"cards_frozen": frozen, "priority": PRIORITY})
    return handed
