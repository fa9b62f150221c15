"""Helpers shared by the intent handlers: identity gate, transaction search, handoffs.

Every account read goes through ``turn.identity.customer_id`` (the verified customer) and the
store's customer-scoped keys; nothing a customer types is ever used as a customer id.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from chalicelib.core.models import Handoff, Transaction, TxnStatus
from chalicelib.core.pci import contains_pan, find_pans, guard_value
from intents.dialog import (
    ATTR_CANDIDATES,
    ATTR_HANDOFF,
    ATTR_HISTORY,
    ATTR_LAST_TXN,
    ATTR_PENDING_INTENT,
    Button,
    Card,
    Decision,
    Turn,
    json_attr,
    set_json_attr,
)
from intents.replies import day, money, render

SEARCH_WINDOW_DAYS = 180
MAX_CHOICES = 5

# Intents that show account data and so need a verified customer.
NEEDS_IDENTITY = {"LookupTransaction", "ExplainHold", "FileDispute", "DisputeStatus"}


def short_ref(prefix: str, *parts: str, length: int = 6) -> str:
    """A stable, customer-readable reference derived from its inputs.

    Deterministic on purpose: Lex, SQS and Lambda retry, and a retried turn must produce the
    same reference so the conditional create finds the first record instead of making a second.
    """
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    code = base64.b32encode(digest).decode().rstrip("=")
    code = code.replace("0", "").replace("1", "").replace("O", "").replace("I", "")
    return f"{prefix}-{code[:length]}"


def now_of(turn: Turn) -> datetime:
    return turn.now or turn.services.clock()


# --------------------------------------------------------------------------- identity gate
def require_identity(turn: Turn) -> Decision | None:
    """None when the customer is verified; otherwise the decision that starts step-up.

    The intent the customer asked for is parked in the session (name + slots) and resumed by
    VerifyIdentity once the one-time code checks out, so they never have to repeat themselves.
    """
    if turn.identity.locked:
        return escalate(turn, "lockout", render("verify_locked"))
    if turn.identity.verified:
        return None
    session = dict(turn.session)
    set_json_attr(session, ATTR_PENDING_INTENT, {"name": turn.intent_name, "slots": _clean_slots(turn.slots)})
    return Decision(
        action="ElicitSlot",
        intent_name="VerifyIdentity",
        slot_to_elicit="CardLast4",
        slots={"CardLast4": None, "DateOfBirth": None, "OneTimeCode": None},
        messages=[render("verify_intro"), render("verify_ask_last4")],
        session=session,
        facts={"step_up": "started"},
    )


def _clean_slots(slots: dict[str, str | None]) -> dict[str, str | None]:
    """Session attributes hold state, never the customer's raw words: a redacted copy is parked."""
    return {k: (v if v is None else _redacted(str(v)[:200])) for k, v in slots.items()}


# --------------------------------------------------------------------------- search
@dataclass
class Criteria:
    merchant: str | None = None
    amount_minor: int | None = None
    on: date | None = None
    last4: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.merchant or self.amount_minor or self.on or self.last4)

    def describe(self) -> str:
        parts = []
        if self.merchant:
            parts.append(f"from {self.merchant}")
        if self.amount_minor:
            parts.append(f"for {money(self.amount_minor)}")
        if self.on:
            parts.append(f"on {day(self.on)}")
        if self.last4:
            parts.append(f"on the card ending {self.last4}")
        return " ".join(parts) or "matching that"


_LAST4 = re.compile(r"(?:ending(?: in)?|last (?:4|four)(?: digits)?|x|\*{2,4})\s*(\d{4})\b", re.I)
_FILLER = re.compile(
    r"\b(the|a|an|my|one|payment|charge|transaction|purchase|from|at|to|on|of|for|card|it|was|"
    r"i|paid|made|ending|in|with|that|this|yesterday|today|last|ago|days?|week|dollars?|bucks|usd)\b",
    re.I,
)


def parse_amount_text(text: str | None) -> int | None:
    """An amount typed in a slot; a card number is never read as one (it is not money)."""
    if not text or contains_pan(str(text)):
        return None
    from nlp.entities import parse_amount

    found = parse_amount(text, default_currency="USD")
    if found:
        return found[0]
    try:
        value = float(str(text).replace(",", "").replace("$", "").strip())
    except ValueError:
        return None
    if value <= 0 or value > 10_000_000:
        return None
    return int(round(value * 100))


def parse_date_text(text: str | None, today: date) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(str(text).strip()[:10])
    except ValueError:
        pass
    from nlp.entities import parse_date_phrase

    return parse_date_phrase(str(text), today)


def amount_in_phrase(text: str) -> int | None:
    """An amount in a free phrase: "$42.99", "42.99 dollars", or a bare "899" / "the 58.20 one".

    Four-digit bare numbers are left alone (card endings, years); dates and card numbers are
    stripped first."""
    from nlp.entities import parse_amount

    text = without_pans(text)

    found = parse_amount(text)
    if found:
        return found[0]
    cleaned = re.sub(r"\b\d{1,4}[/-]\d{1,2}(?:[/-]\d{2,4})?\b", " ", text)
    m = re.search(r"(?<![\w.])(\d{1,3}(?:,\d{3})*(?:\.\d{1,2})?|\d{1,3}\.\d{1,2})(?![\w.])", cleaned)
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    return int(round(value * 100)) if value > 0 else None


def criteria_from_turn(turn: Turn, text_slot: str = "Merchant", text: str | None = None) -> Criteria:
    """Combine the structured slots with whatever the free-text slot also says.

    Customers answer "which payment?" with "the $42.99 one from Amazon yesterday"; Lex puts all
    of that in one slot, so amounts, dates and card digits are pulled out of it as well.
    """
    today = now_of(turn).date()
    text = without_pans((turn.slot(text_slot) or "") if text is None else text)
    crit = Criteria(
        amount_minor=parse_amount_text(turn.slot("Amount")),
        on=parse_date_text(turn.slot("TransactionDate"), today),
        last4=(turn.slot("CardLast4") or None),
    )
    if text:
        if crit.amount_minor is None and re.search(r"\d", text):
            crit.amount_minor = amount_in_phrase(_LAST4.sub(" ", text))
        if crit.on is None:
            from nlp.entities import parse_date_phrase

            crit.on = parse_date_phrase(text, today)
        m = _LAST4.search(text)
        if m and not crit.last4:
            crit.last4 = m.group(1)
        merchant = re.sub(r"[$€£]?\d[\d,]*(?:\.\d+)?", " ", _LAST4.sub(" ", text))
        merchant = re.sub(r"\b(mon|tues|wednes|thurs|fri|satur|sun)day\b", " ", merchant, flags=re.I)
        merchant = _FILLER.sub(" ", merchant)
        merchant = " ".join(merchant.split())
        if len(merchant) >= 2:
            crit.merchant = merchant
    if crit.last4 and not re.fullmatch(r"\d{4}", crit.last4):
        crit.last4 = None
    return crit


def without_pans(text: str) -> str:
    """The text with card numbers blanked, so no digit of one is read as an amount, date or merchant."""
    out, pos = [], 0
    for sp in find_pans(text or ""):
        out.append(text[pos:sp.start] + " ")
        pos = sp.end
    return "".join(out) + (text or "")[pos:]


def find_transactions(turn: Turn, crit: Criteria, statuses: set[TxnStatus] | None = None) -> list[Transaction]:
    from chalicelib.payments.merchants import merchant_match_score

    customer_id = turn.identity.customer_id
    assert customer_id, "find_transactions needs a verified customer"
    now = now_of(turn)
    txns = turn.services.store.transactions.list_for_customer(
        customer_id, since=now - timedelta(days=SEARCH_WINDOW_DAYS), until=now + timedelta(days=1)
    )
    scored: list[tuple[float, Transaction]] = []
    for t in txns:
        if statuses and t.status not in statuses:
            continue
        score = 1.0
        if crit.amount_minor is not None:
            diff = abs(abs(t.amount_minor) - crit.amount_minor)
            if diff > max(1, crit.amount_minor // 100):
                continue
            score += 1.0 - diff / max(crit.amount_minor, 1)
        if crit.on is not None:
            delta = abs((t.occurred_at.date() - crit.on).days)
            if delta > 1:
                continue
            score += 1.0 - 0.5 * delta
        if crit.last4 and t.card_last4 != crit.last4:
            continue
        if crit.merchant:
            m = merchant_match_score(crit.merchant, t.descriptor, t.merchant_name)
            if m < 0.6:
                continue
            score += 2 * m
        scored.append((score, t))
    scored.sort(key=lambda st: (-st[0], -st[1].occurred_at.timestamp()))
    if scored and crit.merchant and crit.amount_minor is None and crit.on is None:
        # A name alone matches every coffee ever bought: keep the best-scoring merchant only.
        best = scored[0][0]
        scored = [st for st in scored if st[0] >= best - 0.15]
    return [t for _, t in scored]


_MIN_OPENING_MATCH = 0.75


def find_transactions_in_text(turn: Turn, text: str) -> list[Transaction]:
    """Payments named in a whole sentence, for when Lex left the slots empty.

    Stricter than a slot answer: the merchant must match well (the sentence carries other words),
    and only a handful of results count as an answer."""
    if not text or not turn.identity.customer_id:
        return []
    crit = criteria_from_turn(turn, text=text)
    if crit.empty:
        return []
    if crit.merchant:
        from chalicelib.payments.merchants import merchant_match_score

        words = crit.merchant.split()
        best = None
        for n in range(min(3, len(words)), 0, -1):  # the merchant is usually 1-3 words of the rest
            for i in range(len(words) - n + 1):
                cand = " ".join(words[i:i + n])
                txns = find_transactions(turn, Criteria(cand, crit.amount_minor, crit.on, crit.last4))
                if txns and max(merchant_match_score(cand, t.descriptor, t.merchant_name) for t in txns) >= _MIN_OPENING_MATCH:
                    best = txns
                    break
            if best:
                break
        if best is None and (crit.amount_minor or crit.on):
            best = find_transactions(turn, Criteria(None, crit.amount_minor, crit.on, crit.last4))
        txns = best or []
    else:
        txns = find_transactions(turn, crit)
    return txns if len(txns) <= MAX_CHOICES else []


def txn_line(t: Transaction) -> str:
    return f"{money(t.amount_minor, t.currency)} {t.merchant_name}, {day(t.occurred_at)}"


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
    lines = [f"{i}. {txn_line(t)}" for i, t in enumerate(shown, 1)]
    card = Card(
        title=render("choose_title"),
        buttons=tuple(Button(text=f"{money(t.amount_minor, t.currency)} {t.merchant_name}"[:50], value=str(i)) for i, t in enumerate(shown, 1)),
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
    for word, idx in _ORDINALS.items():
        if re.search(rf"\b{word}\b", a):
            return cands[idx - 1 if idx > 0 else -1] if abs(idx) <= len(cands) else None
    for t in cands:
        if a == t.txn_id.lower():
            return t
    amount = parse_amount_text(answer) if re.search(r"\d", a) else None
    if amount:
        hits = [t for t in cands if abs(t.amount_minor) == amount]
        if len(hits) == 1:
            return hits[0]
    from chalicelib.payments.merchants import merchant_match_score

    scored = sorted(((merchant_match_score(answer, t.descriptor, t.merchant_name), t) for t in cands), key=lambda x: -x[0])
    if scored and scored[0][0] >= 0.6 and (len(scored) == 1 or scored[1][0] < scored[0][0] - 0.1):
        return scored[0][1]
    return None


def remember_txn(session: dict[str, str], txn: Transaction) -> dict[str, str]:
    session = dict(session)
    session[ATTR_LAST_TXN] = txn.txn_id
    session.pop(ATTR_CANDIDATES, None)
    return session


def last_txn(turn: Turn) -> Transaction | None:
    txn_id = turn.session.get(ATTR_LAST_TXN)
    if not txn_id or not turn.identity.customer_id:
        return None
    return turn.services.store.transactions.get(turn.identity.customer_id, txn_id[:64])


# --------------------------------------------------------------------------- handoff
def escalate(turn: Turn, reason: str, message: str, extra: dict | None = None, state: str = "Fulfilled") -> Decision:
    """Record a handoff with the full context and tell the customer their reference.

    Idempotent per session and reason: a retried turn returns the reference already given.
    """
    store = turn.services.store
    existing = [h for h in store.handoffs.list_for_session(turn.session_id) if h.reason == reason]
    if existing:
        handoff = existing[0]
    else:
        handoff = Handoff(
            handoff_id=short_ref("HND", turn.session_id, reason),
            customer_id=turn.identity.customer_id if turn.identity.verified else None,
            session_id=turn.session_id,
            reason=reason,
            summary=_redacted(turn.transcript)[:500],  # redact() ends with the one outbound guard
            context=_context_bundle(turn, extra or {}),
            channel="chat",
            created_at=now_of(turn),
        )
        try:
            store.handoffs.create(handoff)
        except Exception as exc:  # AlreadyExists from a concurrent duplicate: reuse it
            from chalicelib.storage.base import AlreadyExists

            if not isinstance(exc, AlreadyExists):
                raise
            handoff = store.handoffs.get(handoff.handoff_id) or handoff
    gov = turn.services.governance
    decision_id = gov.record_handoff(turn, handoff) if gov is not None else None
    session = dict(turn.session)
    session[ATTR_HANDOFF] = handoff.handoff_id
    session.pop(ATTR_PENDING_INTENT, None)
    messages = [message, render("handoff_reference", ref=handoff.handoff_id)]
    facts = {"escalated": True, "handoff_id": handoff.handoff_id, "reason": reason, "decision_id": decision_id}
    desk = getattr(turn.services, "tickets", None)
    if desk is not None:  # the ticket an agent works, routed on by Amazon Connect (chalicelib/tickets/desk.py)
        from intents.ticketing import open_ticket_for

        esc = open_ticket_for(desk, turn, handoff, decision_id, extra or {})
        session.update(esc.connect_attributes())
        messages.append(render("ticket_wait", ref=esc.ticket.ticket_id, wait=esc.wait.phrase))
        facts.update(ticket_id=esc.ticket.ticket_id, ticket_outcome=esc.outcome)
    return Decision(
        action="Close",
        intent_state=state,  # type: ignore[arg-type]
        messages=messages,
        session=session,
        facts=facts,
    )


def _redacted(text: str) -> str:
    from nlp.redact import redact

    return redact(text or "").text


def _context_bundle(turn: Turn, extra: dict) -> dict:
    history = json_attr(turn.session, ATTR_HISTORY, []) or []
    bundle = {
        "intent": turn.intent_name,
        "intent_history": history[-10:] if isinstance(history, list) else [],
        "verified": turn.identity.verified,
        "verification_method": turn.identity.method,
        "last_txn_id": turn.session.get(ATTR_LAST_TXN),
        "slots": {k: _redacted(v) if isinstance(v, str) else v for k, v in turn.slots.items()},
        "at": now_of(turn).astimezone(timezone.utc).isoformat(),
    }
    bundle.update(extra)
    # The ticket an agent reads is outbound text too: handler-supplied extras (search criteria built
    # from the customer's words) pass the one guard with everything else.
    return guard_value(bundle)
