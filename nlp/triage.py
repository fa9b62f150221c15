"""One triage pipeline for chat messages and complaint emails.

Order matters and is the point of this module: the text is **redacted first**, and only the
redacted text reaches the language guesser, the entity rules, the intent classifier, the sentiment
model, the urgency rules, Comprehend and any log line. Everything after redaction is local and
cheap (a few milliseconds); Comprehend is asked only when the local answer is unsure, the text is
not English or the stakes are high, under a budget, and its failure never changes the outcome
beyond ``tier_used`` saying why the local result stands.

Category: the classifier's BANKING77 distribution is folded into the dispute taxonomy
(``nlp.taxonomy``), and the category's confidence is the probability mass of all its labels. Rules
override it where the text is explicit ("charged twice", "never arrived", "cancelled my
subscription but they still charge me"), including the categories BANKING77 has no label for
(``not_received``, ``not_as_described``, ``cancelled_recurring``), and send text that is clearly
about another product (mortgage, credit report, student loan, debt collection …) to
``out_of_scope``. When the classifier artifacts are missing the pipeline still answers: intent
``unsure``, category from the rules or ``out_of_scope`` with confidence 0.

Emails and chat of ``LONG_TEXT_CHARS`` or more take the document path of ``nlp.longtext``
instead: scope, category and urgency from the whole letter. The intent of text of
``LONG_TEXT_CHARS`` or more comes from the sentence that decided the category
(``nlp.letter_intent``), never from the letter's opening; a shorter email is classified whole.

The classifier is English-only: text confidently detected as another language gets intent
``unsure`` (the decision policy escalates unsupported languages) while the rest of the result
(entities, urgency, Comprehend sentiment) is still produced.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nlp import language as _language
from nlp import sentiment as _sentiment
from nlp import urgency as _urgency
from nlp.entities import Entities, extract_entities
from nlp.category_rules import rule_category
from nlp.letter_intent import document_intent, sentence_classifier
from nlp.longtext import LONG_TEXT_CHARS, SCOPE_OURS, triage_document
from nlp.redact import Redaction, redact, redact_mapping, redacted_prefix
from nlp.triage_result import EmailTriageResult, TriageResult, triage_key

if TYPE_CHECKING:  # pragma: no cover - typing only
    from nlp.comprehend import ComprehendTier

__all__ = ["TriageResult", "EmailTriageResult", "triage_text", "triage_email", "email_text",
           "triage_text_tiered", "triage_email_tiered", "rule_category", "MAX_TRIAGE_CHARS", "RULE_CONFIDENCE"]

log = logging.getLogger(__name__)

MAX_TRIAGE_CHARS = 20_000  # longer text is cut before triage (emails: subject + new text + forward)
RULE_CONFIDENCE = 0.9  # floor of category_confidence when an explicit rule decides the category
FOREIGN_LANGUAGE_CONFIDENCE = 0.5  # above this, a non-English guess makes the English classifier unsure
TIER_DISABLED = "local:comprehend_disabled"

_NLP_DIR = Path(__file__).resolve().parent
_REDACTION_FILES = ("pipeline.cfg", "patterns.py", "components.py", "pii_words.py", "card_words.py",
                    "signature_names.py", "tokenizer_rules.json")


# ------------------------------------------------------------------------------------------------
# Classifier access (lazy, optional)

class _Classifier(Protocol):
    labels: list[str]
    temperature: float
    threshold: float

    def logits(self, texts: list[str]) -> Any: ...


_clf_lock = threading.Lock()
_clf_state: dict[str, Any] = {}


def _get_classifier() -> _Classifier | None:
    """The shared classifier, or None (remembered) when its artifacts are missing or broken."""
    if "clf" not in _clf_state:
        with _clf_lock:
            if "clf" not in _clf_state:
                try:
                    from nlp.classifier import get_classifier

                    _clf_state["clf"] = get_classifier()
                except Exception as exc:  # missing artifacts: still triage, intent "unsure"
                    log.warning("intent classifier unavailable: %s", type(exc).__name__)
                    _clf_state["clf"] = None
    return _clf_state["clf"]


def _file_digest(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        try:
            h.update(p.read_bytes())
        except OSError:
            h.update(b"-")
    return h.hexdigest()[:12]


_versions_cache: dict[str, str] = {}


def _model_versions(clf: _Classifier | None) -> dict[str, str]:
    if not _versions_cache:
        _versions_cache.update({
            # every file whose rules decide what is redacted (the card finder and guard included)
            "redaction": "rules-" + _file_digest(*(_NLP_DIR / f for f in _REDACTION_FILES),
                                                 _NLP_DIR.parent / "chalicelib" / "core" / "pci.py"),
            "taxonomy": "table-" + _file_digest(_NLP_DIR / "taxonomy.py"),
            "language": _language.VERSION,
            "sentiment": _sentiment.VERSION,
            "urgency": _urgency.VERSION,
            "category_rules": "rules-1",
        })
    out = dict(_versions_cache)
    if clf is None:
        out["intent"] = "unavailable"
    else:
        if "intent" not in _versions_cache:
            model_dir = getattr(clf, "model_dir", None)
            if model_dir is None:
                from chalicelib.core.settings import get_settings

                model_dir = get_settings().model_dir
            md = Path(model_dir)
            size = (md / "model.int8.onnx").stat().st_size if (md / "model.int8.onnx").exists() else 0
            _versions_cache["intent"] = f"minilm-int8-{_file_digest(md / 'calibration.json', md / 'labels.json')}-{size}"
        out["intent"] = _versions_cache["intent"]
    return out


def _classify(clf: _Classifier, text: str) -> tuple[str, float, list[tuple[str, float]], bool, dict[str, float]]:
    """(label, confidence, top3, unsure, mass per category) from the calibrated distribution."""
    import numpy as np

    from nlp.classifier import softmax
    from nlp.taxonomy import label_to_category

    probs = softmax(np.asarray(clf.logits([text])), clf.temperature)[0]
    order = np.argsort(-probs, kind="stable")
    labels = clf.labels
    top3 = [(labels[int(i)], round(float(probs[int(i)]), 6)) for i in order[:3]]
    mass: dict[str, float] = {}
    for lab, p in zip(labels, probs):
        cat = label_to_category(lab)
        mass[cat] = mass.get(cat, 0.0) + float(p)
    label, conf = top3[0]
    return label, float(probs[int(order[0])]), top3, conf < clf.threshold, mass


# ------------------------------------------------------------------------------------------------
# Pipeline

def _entities_dict(ents: Entities) -> dict[str, Any]:
    return {
        "amounts": [{"text": a.text, "minor": a.minor, "currency": a.currency} for a in ents.amounts],
        "dates": [{"text": d.text, "date": d.date.isoformat() if d.date else None,
                   "date_from": d.date_from.isoformat(), "date_to": d.date_to.isoformat(),
                   "relative": d.relative} for d in ents.dates],
        "merchants": [m.name for m in ents.merchants],
        "card_last4": list(ents.card_last4),
        "transaction_ids": list(ents.transaction_ids),
        "case_ids": list(ents.case_ids),
        "handoff_ids": list(ents.handoff_ids),
    }


def triage_text(text: str, *, id: str | None = None, channel: str = "chat", today: date | None = None,
                comprehend: "ComprehendTier | None" = None, repeat_contact: bool = False,
                classifier: _Classifier | None = None, long_text: bool | None = None,
                redaction: Redaction | None = None, known_names: tuple[str, ...] = ()) -> TriageResult:
    """Triage one message. ``classifier`` overrides the shared one (tests, evaluation).
    ``long_text`` (default: emails, and chat text of ``LONG_TEXT_CHARS`` or more) takes the
    document-level triage of ``nlp.longtext``: its scope, category and urgency stand, and the
    intent is read from the sentence that decided the category (``document_intent``). ``redaction``
    is ``redact(text, known_names)`` when the caller already has it (``triage_email``: the subject's
    redaction comes from the same pass), for text of at most ``MAX_TRIAGE_CHARS``. ``known_names``
    (an email's sender names) are redacted wherever they appear."""
    text = (text or "")[:MAX_TRIAGE_CHARS]
    red = redaction if redaction is not None else redact(text, known_names)
    redacted = red.text

    lang = _language.detect_language(redacted)
    ents = extract_entities(redacted, today)
    foreign = lang.language not in ("en", "und") and lang.confidence >= FOREIGN_LANGUAGE_CONFIDENCE

    clf = classifier if classifier is not None else _get_classifier()
    intent, intent_conf, top3, lex_intent = "unsure", 0.0, [], None
    category, category_conf, category_source = "out_of_scope", 0.0, "none"
    doc = None
    if long_text is None:
        long_text = channel == "email" or len(text) >= LONG_TEXT_CHARS
    long_text = long_text and bool(redacted.strip())
    # A long text's opening 64 tokens say little: its intent comes from its document decision. A short
    # email is classified whole, as a chat message is (its 64 tokens are most of it).
    whole = not (long_text and len(text) >= LONG_TEXT_CHARS)
    mass: dict[str, float] = {}
    if clf is not None and redacted.strip() and whole:
        from nlp.taxonomy import label_to_category, label_to_lex_intent

        label, intent_conf, top3, unsure, mass = _classify(clf, redacted)
        if not unsure and not foreign:
            intent, lex_intent = label, label_to_lex_intent(label)
        category = label_to_category(label)
        category_conf, category_source = mass.get(category, 0.0), "classifier"
    if long_text:
        doc = triage_document(redacted, rule=rule_category, amounts=ents.amounts, repeat_contact=repeat_contact,
                              classify=sentence_classifier(clf) if clf is not None else None, language=lang.language)
        category, category_conf, category_source = doc.category, doc.category_confidence, doc.category_source
        if not whole:
            intent, intent_conf, top3, lex_intent = document_intent(doc, foreign)
        elif doc.scope != SCOPE_OURS:
            intent, lex_intent = "unsure", None
        urgency, urgency_reasons = doc.urgency, list(doc.urgency_reasons)
        if _urgency.mentions_self_harm(redacted):  # never ignored, complaint or not: the whole text's score
            urg = _urgency.score_urgency(redacted, ents.amounts, repeat_contact=repeat_contact)
            urgency, urgency_reasons = urg.score, list(urg.reasons)
    else:
        rule = rule_category(redacted)
        if rule is not None and rule[0] != category:
            category, category_source = rule[0], f"rule:{rule[1]}"
            category_conf = max(mass.get(category, 0.0), RULE_CONFIDENCE)
        elif rule is not None:
            category_conf = max(category_conf, RULE_CONFIDENCE)
        urg = _urgency.score_urgency(redacted, ents.amounts, repeat_contact=repeat_contact)
        urgency, urgency_reasons = urg.score, list(urg.reasons)

    senti = _sentiment.analyse_sentiment(redacted)
    sentiment, sentiment_scores = senti.label, dict(senti.scores)
    language, language_conf = lang.language, lang.confidence
    tier, cost, escalate = TIER_DISABLED, 0.0, []
    if comprehend is not None:
        escalate = comprehend.escalation_reasons(
            unsure=intent == "unsure", language=language, language_confidence=language_conf,
            urgency_reasons=urgency_reasons)
        outcome = comprehend.analyse(redacted, escalation=escalate, language=language,
                                     language_confidence=language_conf,
                                     decision_id=triage_key(id, redacted))
        tier, cost = outcome.tier_used, outcome.cost_usd
        if outcome.sentiment is not None:
            sentiment, sentiment_scores = outcome.sentiment, dict(outcome.sentiment_scores)
        if outcome.language is not None:
            language, language_conf = outcome.language, outcome.language_confidence
    versions = _model_versions(clf)
    if comprehend is not None:
        versions["comprehend"] = "2017-11-27"
    if doc is not None:
        versions["scope"] = doc.model_version

    result = TriageResult(
        id=id, channel=channel, language=language, language_confidence=round(language_conf, 4),
        redacted_text=redacted, pii=dict(red.pii_counts), entities=_entities_dict(ents),
        intent=intent, intent_confidence=round(intent_conf, 6), intent_top3=top3,
        category=category, category_confidence=round(min(1.0, category_conf), 6), category_source=category_source,
        lex_intent=lex_intent, sentiment=sentiment, sentiment_scores=sentiment_scores,
        urgency=urgency, urgency_reasons=urgency_reasons, escalation_reasons=list(escalate),
        tier_used=tier, cost_usd=round(cost, 6), model_versions=versions,
        scope=doc.scope if doc else None, scope_reason=doc.scope_reason if doc else None,
        product=doc.product if doc else None, evidence=doc.evidence_dicts() if doc else [],
    )
    settle = getattr(comprehend, "settle", None)
    if settle is not None:  # a controlled tier (nlp.tiering): records shadow mode's decision
        result = settle(result)
    log.debug("triaged id=%s intent=%s category=%s tier=%s", id, intent, category, result.tier_used)
    return result


# ------------------------------------------------------------------------------------------------
# Email

_SUBJECT_PREFIX_RE = re.compile(r"^\s*(?:(?:re|fwd?|fw|aw|wg|sv|tr|rv|antw)\s*(?:\[\d+\])?\s*:\s*)+", re.I)


def email_text(parsed: Any) -> str:
    """What the pipeline reads from an email: subject (reply/forward prefixes dropped), the
    author's new text, then the forwarded customer's text (a support agent's "see below" says
    little; the complaint is in the forward)."""
    subject = _SUBJECT_PREFIX_RE.sub("", parsed.subject or "").strip()
    parts = [subject, (parsed.body or "").strip()]
    forwarded = (parsed.forwarded_body or "").strip()
    if forwarded and forwarded not in parts[1]:
        parts.append(forwarded)
    return "\n\n".join(p for p in parts if p)


def _redacted_subject(subject: str, text: str, red: Redaction, names: tuple[str, ...] = ()) -> str:
    """The subject as the triage text has it redacted (it is that text's start), reply/forward prefix
    kept: a name the body gives away goes from the subject too. Redacted on its own when it is not
    the text's start (no subject, or cut) or the redaction cannot be split at its end."""
    prefix = _SUBJECT_PREFIX_RE.match(subject)
    head = subject[prefix.end() if prefix else 0:]
    stripped = head.strip()
    if stripped and text.startswith(stripped):
        part = redacted_prefix(red, text, len(stripped))
        if part is not None:
            return subject[:len(subject) - len(head)] + head[:len(head) - len(head.lstrip())] + part
    return redact(subject, names).text if subject else ""


def _address(a: Any) -> str | None:
    return a.address if a is not None and getattr(a, "address", "") else None


def sender_names(parsed: Any) -> tuple[str, ...]:
    """Display names of the sender and of a forwarded mail's original sender: the body names them
    too ("Hi Linh," / "Mark, there's a charge"), and those mentions are redacted with the rest."""
    return tuple(a.name for a in (parsed.from_, parsed.original_from) if a is not None and getattr(a, "name", ""))


def triage_email(raw: bytes, *, id: str | None = None, today: date | None = None,
                 comprehend: "ComprehendTier | None" = None, repeat_contact: bool = False,
                 classifier: _Classifier | None = None) -> EmailTriageResult:
    """Parse and triage one raw MIME message; raises only ``EmailTooLarge`` (from the parser)."""
    from nlp.email_parse import parse_email

    parsed = parse_email(raw)
    if today is None and parsed.date is not None:
        today = parsed.date.date()  # "yesterday" in an email means the day before it was sent
    names = sender_names(parsed)
    text = email_text(parsed)[:MAX_TRIAGE_CHARS]
    red = redact(text, names)
    base = triage_text(text, id=id or parsed.message_id, channel="email", today=today, comprehend=comprehend,
                       repeat_contact=repeat_contact, classifier=classifier, redaction=red, known_names=names)
    subject = _redacted_subject(parsed.subject or "", text, red, names)
    meta = {
        "from": _address(parsed.from_),
        "original_from": _address(parsed.original_from),
        "subject": subject,
        "message_id": parsed.message_id,
        "message_id_synthesised": parsed.message_id_synthesised,
        "date": parsed.date.isoformat() if parsed.date else None,
        "forwarded": parsed.forwarded,
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size}
                        for a in parsed.attachments],
        "charsets": list(parsed.charsets),
        "malformed": parsed.malformed,
        "defects": list(parsed.defects),
    }
    # Headers and attachment names are customer-controlled too: no card number leaves in them.
    meta = redact_mapping(meta)
    return EmailTriageResult(**base.model_dump(), email=meta)


def triage_text_tiered(text: str, **kwargs: Any) -> TriageResult:
    """``triage_text`` with this container's Comprehend tier (``nlp.tiering``): budgeted, behind a
    breaker, and under the ``comprehend_tier`` kill switch / shadow mode, read per message. The
    chat fallback calls this; ``comprehend=`` passed explicitly wins."""
    if "comprehend" not in kwargs:
        from nlp.tiering import get_container_tier

        kwargs["comprehend"] = get_container_tier()
    return triage_text(text, **kwargs)


def triage_email_tiered(raw: bytes, **kwargs: Any) -> EmailTriageResult:
    """``triage_email`` with this container's Comprehend tier: what the email consumer's entry points
    (``app.py``, ``python -m chalicelib.email_ingest``) hand the email service."""
    if "comprehend" not in kwargs:
        from nlp.tiering import get_container_tier

        kwargs["comprehend"] = get_container_tier()
    return triage_email(raw, **kwargs)


def scrub_output(record: dict[str, Any]) -> dict[str, Any]:
    """Last line of defence for any serialised result: Luhn-valid digit runs are masked."""
    return redact_mapping(record)

