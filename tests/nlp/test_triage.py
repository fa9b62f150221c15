"""The triage pipeline: redaction first, then intent/category, entities, sentiment, urgency."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp import triage as triage_module
from nlp.patterns import scrub_pans
from nlp.taxonomy import LABELS
from nlp.triage import EmailTriageResult, TriageResult, email_text, rule_category, triage_email, triage_text
from tests.support.classifier import FakeClassifier

EMAILS = Path(__file__).resolve().parents[3] / "shared" / "data" / "emails"
TODAY = date(2026, 11, 20)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def test_result_has_every_documented_field():
    """Given a plain dispute message
    When it is triaged
    Then the result carries the documented fields, with types and counts for PII only."""
    r = triage_text("I was charged twice for Netflix, card 4111 1111 1111 1111", today=TODAY)
    d = r.model_dump()
    for key in ("id", "language", "language_confidence", "redacted_text", "pii", "entities", "intent",
                "intent_confidence", "intent_top3", "category", "category_confidence", "lex_intent",
                "sentiment", "sentiment_scores", "urgency", "urgency_reasons", "tier_used", "cost_usd",
                "model_versions"):
        assert key in d
    assert r.pii == {"CARD": 1}
    assert r.category == "duplicate_charge" and r.lex_intent == "FileDispute"
    assert set(r.model_versions) >= {"intent", "redaction", "sentiment", "urgency", "language"}


def test_models_only_see_redacted_text():
    """Given a message with a card number, an email address and a phone number
    When it is triaged with a recording classifier
    Then the classifier saw the typed tokens, never the values."""
    clf = FakeClassifier("card_payment_not_recognised", 0.95)
    triage_text("Card 4539 1488 0343 6467 was used; mail me at jo@example.com or 415-555-0134",
                classifier=clf)
    assert clf.seen and "4539" not in clf.seen[0] and "jo@example.com" not in clf.seen[0]
    assert "[CARD ****6467]" in clf.seen[0]


def test_abstention_gives_intent_unsure_but_keeps_top3():
    """Given a classifier whose best label has probability 0.4 under a 0.7 threshold
    When a message is triaged
    Then intent is "unsure" with no Lex intent, and the top 3 still name the candidate."""
    clf = FakeClassifier("card_payment_not_recognised", 0.4)
    r = triage_text("something about a payment", classifier=clf)
    assert r.intent == "unsure" and r.lex_intent is None
    assert r.intent_top3[0][0] == "card_payment_not_recognised"
    assert r.intent_confidence == pytest.approx(0.4, abs=1e-6)


def test_confident_prediction_routes_and_category_mass_sums_labels():
    """Given a confident classifier (0.9 on card_payment_not_recognised)
    When a message is triaged
    Then the intent is that label and the category confidence is the mass of all
    "unauthorised" labels (0.9 plus three small shares)."""
    clf = FakeClassifier("card_payment_not_recognised", 0.9)
    r = triage_text("I do not recognise this payment", classifier=clf)
    rest = 0.1 / (len(LABELS) - 1)
    assert r.intent == "card_payment_not_recognised" and r.category == "unauthorised"
    assert r.category_confidence == pytest.approx(0.9 + 3 * rest, abs=1e-5)


def test_missing_classifier_artifacts_still_triage(monkeypatch):
    """Given the classifier cannot be loaded (artifacts missing)
    When a message is triaged
    Then intent is "unsure", the rules still decide an explicit category, and nothing raises."""
    monkeypatch.setattr(triage_module, "_clf_state", {"clf": None})
    r = triage_text("They charged me twice for the same purchase")
    assert r.intent == "unsure" and r.intent_confidence == 0.0
    assert (r.category, r.category_source) == ("duplicate_charge", "rule:charged_twice")
    assert r.model_versions["intent"] == "unavailable"
    other = triage_text("hello there")
    assert (other.category, other.category_confidence) == ("out_of_scope", 0.0)


def test_non_english_text_is_unsure_for_the_english_classifier():
    """Given a confident Spanish message and a classifier confident on some label
    When it is triaged
    Then intent is "unsure" (the classifier is English-only) and language is "es"."""
    r = triage_text("Me cobraron dos veces en la tarjeta y quiero mi dinero",
                    classifier=FakeClassifier("transaction_charged_twice", 0.95))
    assert r.language == "es" and r.intent == "unsure"


@pytest.mark.parametrize("text, category", [
    ("The merchant charged me twice for one order", "duplicate_charge"),
    ("I cancelled my gym membership in May and they are still charging me", "cancelled_recurring"),
    ("The jacket arrived damaged and is not as described", "not_as_described"),
    ("I paid three weeks ago but my order never arrived", "not_received"),
    ("My wallet was stolen with my card inside", "lost_or_stolen"),
    ("My mortgage servicer reported a late payment to Equifax", "out_of_scope"),
    ("A debt collector keeps calling about a student loan", "out_of_scope"),
])
def test_explicit_text_overrides_the_classifier(text, category):
    """Given explicit text for a category and a classifier confident in something else
    When it is triaged
    Then the rule's category wins with confidence ≥ 0.9 and the source names the rule."""
    r = triage_text(text, classifier=FakeClassifier("pending_card_payment", 0.95))
    assert r.category == category
    assert r.category_confidence >= 0.9 and r.category_source.startswith("rule:")


def test_card_not_arrived_is_not_a_goods_dispute():
    """Given a customer whose new card has not arrived (card delivery, out of scope)
    When the rules are checked
    Then not_received does not fire."""
    assert rule_category("My new card has not arrived yet") is None


@pytest.mark.parametrize("text, reason", [
    ("I will sue you over this unrecognised payment", "legal_threat"),
    ("I am reporting this to the CFPB", "regulator_mention"),
    ("My mother passed away and her card is still charged", "vulnerable_customer"),
    ("Someone took $1,250.00 from my card", "large_amount"),
    ("This is the third time I ask about this charge", "repeat_contact"),
    ("I am stranded abroad and my card is declined", "time_pressure"),
])
def test_each_urgency_reason_through_the_pipeline(text, reason):
    """Given a message with one urgency cause
    When it is triaged
    Then the reason is listed and urgency is above 0."""
    r = triage_text(text, today=TODAY)
    assert reason in r.urgency_reasons and r.urgency > 0


def test_repeat_contact_flag_reaches_urgency():
    """Given the caller knows this customer wrote before
    When a plain message is triaged with repeat_contact=True
    Then repeat_contact is a reason."""
    assert "repeat_contact" in triage_text("Where is my refund?", repeat_contact=True).urgency_reasons


def test_calm_message_has_zero_urgency_and_negative_one_is_negative():
    """Given a calm question and an angry complaint
    When they are triaged
    Then the first has urgency 0 and non-negative sentiment; the second is NEGATIVE."""
    calm = triage_text("How long does a refund usually take?")
    angry = triage_text("This is a disgraceful scam, I am furious about this fraudulent charge")
    assert calm.urgency == 0.0 and calm.sentiment in ("NEUTRAL", "POSITIVE")
    assert angry.sentiment == "NEGATIVE" and angry.sentiment_scores["Negative"] > 0.3


def test_entities_are_normalised():
    """Given a message with an amount, a relative date, a merchant, a card and a case id
    When it is triaged on a known day
    Then the amount is in minor units with its currency, the date is ISO, the card keeps only
    its last 4 and the case id is kept."""
    r = triage_text("Amazon took £42.50 yesterday on card 4111 1111 1111 1111, case DSP-7K2M9Q",
                    today=TODAY)
    e = r.entities
    assert {"minor": 4250, "currency": "GBP"}.items() <= e["amounts"][0].items()
    assert e["dates"][0]["date"] == "2026-11-19"
    assert "Amazon" in e["merchants"] and e["card_last4"] == ["1111"]
    assert e["case_ids"] == ["DSP-7K2M9Q"]


def test_email_text_uses_subject_body_and_forward():
    """Given a parsed forward whose agent note is short and whose complaint is in the forward
    When the triage text is assembled
    Then it is subject (without "Fwd:") + note + forwarded complaint."""
    from nlp.email_parse import ParsedEmail

    p = ParsedEmail(message_id="<x>", subject="Fwd: Re: double charge", body="See below",
                    forwarded_body="They charged me twice")
    assert email_text(p) == "double charge\n\nSee below\n\nThey charged me twice"


@pytest.mark.parametrize("path", sorted(p for p in EMAILS.glob("*.eml")), ids=lambda p: p.name)
def test_every_sample_email_triages(path):
    """Given each sample email from the shared set
    When it is triaged from raw bytes
    Then a result with email metadata comes back, JSON-serialisable, with no Luhn-valid run."""
    r = triage_email(path.read_bytes(), today=TODAY)
    assert isinstance(r, EmailTriageResult)
    assert r.email["message_id"] and r.id == r.email["message_id"]
    assert {"from", "original_from", "subject", "attachments", "malformed", "defects"} <= set(r.email)
    assert scrub_pans(json.dumps(r.model_dump(mode="json")))[1] == 0


def test_forwarded_email_keeps_the_original_sender():
    """Given the shared sample forwarded as an attached message/rfc822
    When it is triaged
    Then email.from is the forwarder and original_from the enclosed message's sender."""
    r = triage_email((EMAILS / "flanker__enclosed.eml").read_bytes())
    assert r.email["from"] == "bob@example.net" and r.email["original_from"] == "dan@example.com"


def test_email_with_pan_in_subject_and_body_is_redacted():
    """Given a complaint email with a card number in the subject and the body
    When it is triaged
    Then neither the redacted text nor the subject keeps the number, only its last 4."""
    raw = (b"From: Ann <ann@example.com>\r\nTo: support@bank.example\r\nSubject: card 4539148803436467 "
           b"charged twice\r\nMessage-ID: <m1@example.com>\r\nDate: Thu, 19 Nov 2026 10:00:00 +0000\r\n\r\n"
           b"Hello, card 4539 1488 0343 6467 was charged twice by Uber yesterday for $25.\r\n")
    r = triage_email(raw)
    assert "4539" not in r.redacted_text and "4539" not in r.email["subject"]
    assert "****6467" in r.email["subject"] and r.entities["dates"][0]["date"] == "2026-11-18"
    assert r.category == "duplicate_charge" and r.channel == "email"


def test_oversized_email_raises_email_too_large():
    """Given a raw message above the 10 MB cap
    When it is triaged
    Then EmailTooLarge is raised (the CLI and queue consumer report it; nothing is parsed)."""
    from nlp.email_parse import EmailTooLarge

    with pytest.raises(EmailTooLarge):
        triage_email(b"From: a@b.c\r\n\r\n" + b"x" * (10 * 1024 * 1024 + 1))


_sep = st.sampled_from(["", " ", "-", ".", "  ", " - "])


@st.composite
def pan_text(draw):
    body = [draw(st.integers(0, 9)) for _ in range(draw(st.sampled_from([12, 14, 15, 18])))]
    prefix = draw(st.sampled_from(["4", "51", "2221", "37", "6011"]))
    digits = prefix + "".join(map(str, body))[: draw(st.sampled_from([13, 15, 16, 19])) - len(prefix) - 1]
    for check in range(10):
        if luhn_ok(digits + str(check)):
            digits += str(check)
            break
    sep = draw(_sep)
    grouped = sep.join(digits[i:i + 4] for i in range(0, len(digits), 4))
    words = draw(st.lists(st.sampled_from(["my card", "charged", "twice", "$45.10", "yesterday", "Amazon",
                                            "urgent", "refund", "é", "ñ", "\n", "🙂"]), max_size=6))
    pos = draw(st.integers(0, len(words)))
    return " ".join(words[:pos] + [grouped] + words[pos:]), digits


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pan_text())
def test_no_luhn_valid_pan_in_any_output_field(case):
    """Given any text holding a Luhn-valid card number in any grouping
    When it is triaged
    Then no field of the serialised result holds that number or any Luhn-valid 13–19 digit run,
    and the text says a card was there."""
    text, digits = case
    out = json.dumps(triage_text(text).model_dump(mode="json"))
    assert digits not in out.replace(" ", "").replace("-", "").replace(".", "")
    assert scrub_pans(out)[1] == 0
    result = TriageResult.model_validate_json(out)
    assert "[CARD ****" in result.redacted_text and result.pii.get("CARD", 0) >= 1


def test_redaction_version_covers_every_file_whose_rules_redact():
    """Given the files whose rules decide what is redacted (pipeline config, patterns, components,
    described PII, card numbers in words, signature names, tokenizer rules, and chalicelib's card
    finder and guard)
    When a message is triaged
    Then the redaction version is the digest of all of them, so a change to any one (the card/CVV
    split, the hyphenated-name rule) changes the version the decision log records."""
    import hashlib

    nlp_dir = Path(triage_module.__file__).resolve().parent
    files = [nlp_dir / f for f in ("pipeline.cfg", "patterns.py", "components.py", "pii_words.py", "card_words.py",
                                   "signature_names.py", "tokenizer_rules.json")] + [
        nlp_dir.parent / "chalicelib" / "core" / "pci.py"]
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    assert triage_text("I was charged twice").model_versions["redaction"] == "rules-" + h.hexdigest()[:12]
