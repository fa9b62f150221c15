"""The context bundle: everything the assistant knew and decided, for the agent who takes over.

Its shape is ``context_bundle.schema.json`` (versioned; tests validate every bundle against it).
The bundle is built from masked projections, never from the models themselves, so a field added
to Customer (a date of birth, a phone) cannot leak into it; every string in it also passes the one
card-number guard (chalicelib.core.pci) and an optional redactor the composition root supplies (the
NLP redactor, for CVVs and dates of birth in free text).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from chalicelib.cases.deadlines import CaseDeadlines
from chalicelib.cases.evidence import EvidenceStatus
from chalicelib.ingest.email_ingest import mask_address
from chalicelib.core.clock import outbound_time
from chalicelib.core.models import Card, Customer, DisputeCase, Transaction
from chalicelib.core.pci import scrub_pans
from chalicelib.tickets.model import Ticket

SCHEMA_VERSION = "2.0"
# The conversation an agent reads is bounded (a ticket is one DynamoDB item, at most 400 KB): the
# most recent turns, within both limits; the bundle says how many earlier ones were left out.
MAX_TRANSCRIPT_TURNS = 60
MAX_TRANSCRIPT_CHARS = 12_000
SCHEMA_PATH = Path(__file__).with_name("context_bundle.schema.json")


@lru_cache(maxsize=1)
def bundle_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _iso(v: datetime | date | str | None) -> str | None:
    """Times to the second (chalicelib.core.clock.outbound_time): a microsecond ISO time can pass
    Luhn, and the guard below would mask it as a card number."""
    if isinstance(v, datetime):
        return outbound_time(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, str) and v:
        try:
            return outbound_time(datetime.fromisoformat(v.replace("Z", "+00:00")))
        except ValueError:
            return v[:40]
    return None


def conversation(kind: str, messages: Iterable[Mapping[str, Any]], *, max_turns: int = MAX_TRANSCRIPT_TURNS,
                 max_chars: int = MAX_TRANSCRIPT_CHARS) -> dict:
    """The most recent messages within ``max_turns`` and ``max_chars``, oldest first, with the window
    that was applied and what it left out. The oldest message kept may be cut to the limit: it then
    keeps its end, after an ellipsis, and ``window.first_cut`` says so."""
    msgs = [{"role": str(m.get("role", "")), "at": _iso(m.get("at")), "text": str(m.get("text", ""))} for m in messages]
    kept: list[dict] = []
    used, cut = 0, False
    for m in reversed(msgs):
        room = max_chars - used
        if len(kept) >= max_turns or room <= 1:
            break
        if len(m["text"]) > room:
            m, cut = {**m, "text": "\u2026" + m["text"][len(m["text"]) - room + 1:]}, True
        kept.append(m)
        used += len(m["text"])
        if cut:
            break
    kept.reverse()
    return {"kind": kind, "messages": kept,
            "window": {"max_turns": max_turns, "max_chars": max_chars, "total_turns": len(msgs),
                       "omitted_turns": len(msgs) - len(kept), "first_cut": cut}}


def _guard(value: Any, redact: Callable[[str], str] | None) -> Any:
    if isinstance(value, str):
        text = redact(value) if redact else value
        return scrub_pans(text)[0]
    if isinstance(value, dict):
        return {k: _guard(v, redact) for k, v in value.items()}
    if isinstance(value, list):
        return [_guard(v, redact) for v in value]
    return value


def customer_summary(customer: Customer | None, cards: Iterable[Card] = ()) -> dict | None:
    if customer is None:
        return None
    return {
        "customer_ref": customer.customer_id,
        "name_initial": (customer.name.strip()[:1] or "?") + ".",
        "email_masked": mask_address(customer.email),
        "vulnerable": customer.vulnerable,
        "cards": [{"last4": c.last4, "network": c.network, "card_type": c.card_type.value} for c in cards],
    }


def transaction_summary(t: Transaction) -> dict:
    return {
        "txn_id": t.txn_id, "occurred_at": _iso(t.occurred_at), "merchant_name": t.merchant_name,
        "descriptor": t.descriptor, "mcc": t.mcc, "amount_minor": t.amount_minor, "currency": t.currency,
        "status": t.status.value, "card_last4": t.card_last4, "channel": t.channel, "country": t.country,
    }


def case_summary(case: DisputeCase | None, deadlines: CaseDeadlines | None, evidence: EvidenceStatus | None) -> dict | None:
    if case is None:
        return None
    return {
        "case_id": case.case_id, "state": case.state.value, "reason": case.reason.value,
        "network_reason_code": case.network_reason_code,
        "disputed_amount_minor": case.disputed_amount_minor, "currency": case.currency,
        "deadlines": deadlines.to_dict() if deadlines else None,
        "evidence": evidence.to_dict() if evidence else None,
        "history": [{**e.model_dump(mode="json"), "at": _iso(e.at)} for e in case.history],
    }


def decision_summary(d: Any) -> dict:
    """A decision-log ``DecisionRecord`` (or a mapping with its fields), reduced to what an agent reads."""
    get = d.get if isinstance(d, Mapping) else lambda k, default=None: getattr(d, k, default)
    at = get("at")
    return {
        "decision_id": str(get("decision_id", "")), "at": _iso(at) or "",
        "actor": str(get("actor", "")), "action": str(get("action", "")), "outcome": str(get("outcome", "")),
        "explanation": str(get("explanation", "") or ""), "reasons": [str(r) for r in get("reasons", []) or []],
        "policy_version": get("policy_version"),
    }


def build_context_bundle(
    ticket: Ticket,
    *,
    customer: Customer | None = None,
    cards: Iterable[Card] = (),
    identity_level: str = "anonymous",
    transactions: Iterable[Transaction] = (),
    case: DisputeCase | None = None,
    deadlines: CaseDeadlines | None = None,
    evidence: EvidenceStatus | None = None,
    triage: Mapping[str, Any] | None = None,
    conversation_kind: str = "none",
    messages: Iterable[Mapping[str, Any]] = (),
    decisions: Iterable[Any] = (),
    next_action: tuple[str, str] = ("review", "Read the conversation and contact the customer."),
    redact: Callable[[str], str] | None = None,
) -> dict:
    """The bundle for ``ticket``. ``messages`` are {role: customer|assistant, text, at?}, oldest first,
    and should arrive redacted (the chat transcript store keeps them so); ``redact`` (e.g.
    nlp.redact) is applied to every string again, then the PAN guard."""
    bundle = {
        "schema_version": SCHEMA_VERSION,
        "ticket": {
            "ticket_id": ticket.ticket_id, "queue": ticket.queue.value, "priority": ticket.priority.value,
            "reason": ticket.reason, "created_by": ticket.created_by.value, "sla_due": _iso(ticket.sla_due),
        },
        "customer": customer_summary(customer, cards),
        "identity_level": identity_level,
        "transactions": [transaction_summary(t) for t in transactions],
        "case": case_summary(case, deadlines, evidence),
        "triage": dict(triage) if triage is not None else None,
        "conversation": conversation(conversation_kind, messages),
        "decisions": [decision_summary(d) for d in decisions],
        "recommended_next_action": {"code": next_action[0], "text": next_action[1]},
    }
    return _guard(bundle, redact)


def validate_bundle(bundle: Mapping[str, Any]) -> None:
    """Raise jsonschema.ValidationError when the bundle breaks its schema (jsonschema is a test and
    agent-API dependency, imported only here)."""
    import jsonschema

    jsonschema.validate(bundle, bundle_schema(), format_checker=jsonschema.FormatChecker())
