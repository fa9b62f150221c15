"""Finding the payment the customer means, and asking "which one?" when several match.

Every account read goes through ``turn.identity.customer_id`` (the verified customer); the chosen
payment and the offered candidates are remembered in the session by id only.
"""
from __future__ import annotations

import re

from chalicelib.core.models import Transaction, TxnStatus
from intents.dialog import ATTR_CANDIDATES, ATTR_LAST_TXN, ATTR_OTHERS, Button, Card, Decision, Turn, json_attr, now_of, set_json_attr
from intents.replies import day, money, render
from intents.slots import Criteria, criteria_from_turn, date_span, parse_amount_text

MAX_CHOICES = 5
LATEST_CHOICES = 3  # a merchant or kind with many payments and no amount: offer this many of the latest


def find_transactions(turn: Turn, crit: Criteria, statuses: set[TxnStatus] | None = None) -> list[Transaction]:
    """The customer's payments that fit ``crit``, best first: the one payment search that email uses too."""
    from chalicelib.core.settings import get_settings
    from chalicelib.payments.search import PaymentQuery, SearchConfig, search_payments

    customer_id = turn.identity.customer_id
    assert customer_id, "find_transactions needs a verified customer"
    query = PaymentQuery(merchant=crit.merchant, amount_minor=crit.amount_minor, date_from=crit.on,
                         date_to=crit.until or crit.on, last4=crit.last4, category=crit.category,
                         amount_approx=crit.amount_approx)
    return search_payments(turn.services.store.transactions, customer_id, now_of(turn), query,
                           SearchConfig.from_settings(get_settings()), statuses)


_MIN_OPENING_MATCH = 0.75


def find_transactions_in_text(turn: Turn, text: str, *, named_only: bool = False) -> list[Transaction]:
    """Payments named in a whole sentence, for when Lex left the slots empty.

    Stricter than a slot answer: the merchant must match well (the sentence carries other words),
    and only a handful of results count as an answer. ``named_only``: a merchant or a kind of
    merchant must be named (a date or an amount alone does not make a sentence about a payment)."""
    if not text or not turn.identity.customer_id:
        return []
    crit = criteria_from_turn(turn, text=text)
    if crit.empty:
        return []
    if crit.merchant:
        from chalicelib.payments.merchants import merchant_match_score

        words = crit.merchant.split()
        best = None
        scored = []  # the best-matching window wins, not the first: "i didnt buy from amazon" is Amazon, not Best Buy
        for n in range(min(3, len(words)), 0, -1):  # the merchant is usually 1-3 words of the rest
            for i in range(len(words) - n + 1):
                cand = " ".join(words[i:i + n])
                txns = find_transactions(turn, crit.but(merchant=cand))
                score = max((merchant_match_score(cand, t.descriptor, t.merchant_name) for t in txns), default=0.0)
                if score >= _MIN_OPENING_MATCH:
                    scored.append((score, n, -i, txns))
        if scored:
            best = max(scored, key=lambda s: s[:3])[3]
        if best is None and (crit.category or (not named_only and (crit.amount_minor or crit.on))):
            best = find_transactions(turn, crit.but(merchant=None))
        txns = best or []
    elif named_only and not crit.category:
        return []
    else:
        txns = find_transactions(turn, crit)
    if (crit.category or crit.merchant) and len(txns) > MAX_CHOICES and not crit.amount_minor:
        # "The coffee place" or "my starbucks payment" fits every coffee ever bought: the latest few
        # are the likely ones (and the customer can narrow it with a date or an amount).
        return sorted(txns, key=lambda t: t.occurred_at, reverse=True)[:LATEST_CHOICES]
    return txns if len(txns) <= MAX_CHOICES else []


def txn_line(t: Transaction) -> str:
    return f"{money(t.amount_minor, t.currency)} {t.merchant_name}, {day(t.occurred_at)}"


BUTTON_MAX = 50  # Lex's limit on a button's text


def choice_labels(txns: list[Transaction], *, with_day: bool = False) -> list[str]:
    """One label per payment that tells it apart from the others: amount and merchant, then the day,
    then the time, then the card (the two payments of a duplicate charge must not read the same)."""
    def label(t: Transaction, detail: int) -> str:
        head = f"{money(t.amount_minor, t.currency)} {t.merchant_name}"
        tail = ""
        if detail >= 1:
            tail += f", {day(t.occurred_at)}" if with_day else f", {t.occurred_at:%a} {t.occurred_at.day} {t.occurred_at:%b}"
        if detail >= 2:
            tail += f" at {t.occurred_at:%H:%M} UTC" if with_day else f" {t.occurred_at:%H:%M}"
        if detail >= 3:
            tail += f", card {t.card_last4}"
        if not with_day and len(head) + len(tail) > BUTTON_MAX:
            head = head[:BUTTON_MAX - len(tail) - 1].rstrip() + "…"
        return head + tail

    details = [1 if with_day else 0] * len(txns)
    labels = [label(t, d) for t, d in zip(txns, details)]
    for _ in range(3):  # only the payments that still read alike get the next detail
        clash = {lab for lab in labels if labels.count(lab) > 1}
        if not clash:
            return labels
        details = [d + 1 if lab in clash else d for d, lab in zip(details, labels)]
        labels = [label(t, d) for t, d in zip(txns, details)]
    return [f"{lab} ({i})" if labels.count(lab) > 1 else lab for i, lab in enumerate(labels, 1)]


def txn_detail(t: Transaction) -> str:
    from chalicelib.payments.merchants import explain_descriptor

    explained = explain_descriptor(t.descriptor)
    return render(
        "txn_detail",
        amount=money(t.amount_minor, t.currency),
        merchant=t.merchant_name,
        descriptor=t.descriptor,
        explained=explained or "",
        when=day(t.occurred_at),
        last4=t.card_last4,
        status=t.status.value,
    )


def choice_decision(turn: Turn, slot: str, txns: list[Transaction], intro: str, slots: dict | None = None) -> Decision:
    """Several payments match: list them (text for voice/SMS, buttons for web) and ask which."""
    shown = txns[:MAX_CHOICES]
    session = dict(turn.session)
    set_json_attr(session, ATTR_CANDIDATES, [t.txn_id for t in shown])
    lines = [f"{i}. {line}" for i, line in enumerate(choice_labels(shown, with_day=True), 1)]
    card = Card(
        title=render("choose_title"),
        buttons=tuple(Button(text=lab, value=str(i)) for i, lab in enumerate(choice_labels(shown), 1)),
    )
    new_slots = dict(slots if slots is not None else turn.slots)
    new_slots[slot] = None
    return Decision(
        action="ElicitSlot",
        slot_to_elicit=slot,
        slots=new_slots,
        messages=[intro, "\n".join(lines), render("choose_prompt", n=len(shown))],
        session=session,
        card=card,
    )


_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}


def resolve_choice(turn: Turn, answer: str | None) -> Transaction | None:
    """Map an answer to one of the offered candidates ("2", "the second", an amount, a name)."""
    if not answer:
        return None
    ids = json_attr(turn.session, ATTR_CANDIDATES, []) or []
    if not isinstance(ids, list):
        return None
    customer_id = turn.identity.customer_id
    cands = [t for t in (turn.services.store.transactions.get(customer_id, str(i)) for i in ids[:MAX_CHOICES]) if t]
    if not cands:
        return None
    a = answer.strip().lower()
    m = re.fullmatch(r"(?:number\s*|option\s*|#)?(\d)\.?", a)
    if m and 1 <= int(m.group(1)) <= len(cands):
        return cands[int(m.group(1)) - 1]
    if re.search(r"\b(cheap\w*|smaller|smallest|lower|lowest|less)\b", a):
        return min(cands, key=lambda t: abs(t.amount_minor))
    if re.search(r"\b(bigger|biggest|larger|largest|higher|highest|more expensive|priciest|pricier|dearer)\b", a):
        return max(cands, key=lambda t: abs(t.amount_minor))
    if re.search(r"\b(earlie(r|st)|older|oldest|before)\b", a):
        return min(cands, key=lambda t: t.occurred_at)
    if re.search(r"\b(later|latest|newer|newest|most recent|after)\b", a):
        return max(cands, key=lambda t: t.occurred_at)
    for word, idx in _ORDINALS.items():
        if re.search(rf"\b{word}\b", a):
            return cands[idx - 1 if idx > 0 else -1] if abs(idx) <= len(cands) else None
    for t in cands:
        if a == t.txn_id.lower():
            return t
    amount = parse_amount_text(answer) if re.search(r"\d", a) else None
    if amount:
        hits = [t for t in cands if abs(t.amount_minor) == amount]
        if not hits and amount % 100 == 0:  # "the 50 dollar one" for $50.81: the cents left out
            hits = [t for t in cands if abs(abs(t.amount_minor) - amount) <= 99]
        if len(hits) == 1:
            return hits[0]
    from chalicelib.payments.categories import find_category
    from chalicelib.payments.merchants import merchant_match_score

    scored = sorted(((merchant_match_score(answer, t.descriptor, t.merchant_name), t) for t in cands), key=lambda x: -x[0])
    if scored and scored[0][0] >= 0.6 and (len(scored) == 1 or scored[1][0] < scored[0][0] - 0.1):
        return scored[0][1]
    kind = find_category(answer)  # "the petrol one"
    fits = [t for t in cands if kind and kind[0].covers(t)]
    if len(fits) == 1:
        return fits[0]
    span = date_span(answer, now_of(turn).date())  # "the one from yesterday"
    fits = [t for t in cands if span and span[0] <= t.occurred_at.date() <= span[1]]
    return fits[0] if len(fits) == 1 else None


def remember_txn(session: dict[str, str], txn: Transaction, others: list[str] | None = None) -> dict[str, str]:
    """The payment the conversation is now about; the ones offered beside it (the candidates it was
    chosen from, unless ``others`` says) are kept for "no, the other one"."""
    session = dict(session)
    if others is None:
        offered = json_attr(session, ATTR_CANDIDATES, []) if ATTR_CANDIDATES in session else None
        others = [str(i) for i in offered if str(i) != txn.txn_id] if isinstance(offered, list) else None
    if others is not None:
        set_json_attr(session, ATTR_OTHERS, others[:MAX_CHOICES] or None)
    elif session.get(ATTR_LAST_TXN) != txn.txn_id:
        session.pop(ATTR_OTHERS, None)
    session[ATTR_LAST_TXN] = txn.txn_id
    session.pop(ATTR_CANDIDATES, None)
    return session


def chosen_by_id(turn: Turn, slot: str) -> Transaction | None:
    """The payment a slot names by its id (a correction hands the new payment on this way); only the
    verified customer's own payments are found."""
    value = turn.slot(slot)
    if not value or not turn.identity.customer_id or len(value) > 64 or " " in value:
        return None
    return turn.services.store.transactions.get(turn.identity.customer_id, value[:64])


def last_txn(turn: Turn) -> Transaction | None:
    txn_id = turn.session.get(ATTR_LAST_TXN)
    if not txn_id or not turn.identity.customer_id:
        return None
    return turn.services.store.transactions.get(turn.identity.customer_id, txn_id[:64])
