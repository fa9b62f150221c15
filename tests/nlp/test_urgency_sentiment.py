"""Urgency rules, local sentiment mapping and offline language identification."""
from __future__ import annotations

import pytest

from nlp.entities import Amount
from nlp.language import detect_language
from nlp.sentiment import analyse_sentiment, from_vader
from nlp.urgency import URGENCY_WEIGHTS, amount_in_usd, score_urgency


def amount(minor: int, currency: str) -> Amount:
    return Amount(text="x", minor=minor, currency=currency, start=0, end=1)


@pytest.mark.parametrize("text, reason", [
    ("My lawyer will be in touch about this", "legal_threat"),
    ("I will sue you for this", "legal_threat"),
    ("I am taking legal action", "legal_threat"),
    ("See you in small claims court", "legal_threat"),
    ("I have contacted an attorney", "legal_threat"),
    ("I am reporting you to the CFPB", "regulator_mention"),
    ("I will go to the ombudsman", "regulator_mention"),
    ("The regulator will hear about this", "regulator_mention"),
    ("I wrote to the attorney general", "regulator_mention"),
    ("I will complain to the FCA", "regulator_mention"),
    ("Filing with the BBB today", "regulator_mention"),
    ("This was during my bereavement", "vulnerable_customer"),
    ("My husband passed away last month", "vulnerable_customer"),
    ("I live with a disability", "vulnerable_customer"),
    ("I can't afford food this week", "vulnerable_customer"),
    ("I can't afford rent now", "vulnerable_customer"),
    ("I am in hospital", "vulnerable_customer"),
    ("It is my elderly mother's card", "vulnerable_customer"),
    ("We are in financial hardship", "vulnerable_customer"),
    ("This is the third time I write", "repeat_contact"),
    ("Still waiting for an answer", "repeat_contact"),
    ("It happened again", "repeat_contact"),
    ("This is urgent", "time_pressure"),
    ("I need it today", "time_pressure"),
    ("Please fix asap", "time_pressure"),
    ("My rent is due tomorrow", "time_pressure"),
    ("I am stranded at the airport", "time_pressure"),
    ("I am abroad with no cash", "time_pressure"),
])
def test_each_reason_fires_on_its_phrases(text, reason):
    """Given a message with one urgency phrase
    When urgency is scored
    Then that reason is reported and the score equals its documented weight."""
    u = score_urgency(text)
    assert reason in u.reasons
    if u.reasons == [reason]:
        assert u.score == pytest.approx(URGENCY_WEIGHTS[reason])


@pytest.mark.parametrize("text", ["I issued a refund request", "Pursue the merchant please",
                                  "My phone died so I could not call", "Tissue paper order"])
def test_near_misses_do_not_fire(text):
    """Given words that merely contain a trigger ("issue", "pursue") or a harmless "died"
    When urgency is scored
    Then no reason fires and the score is 0."""
    u = score_urgency(text)
    assert (u.score, u.reasons) == (0.0, [])


def test_suicidal_language_is_highest_urgency():
    """Given a message expressing suicidal thoughts (no other reason)
    When urgency is scored
    Then the score is 1.0 and the reason is vulnerable_customer."""
    u = score_urgency("Honestly I feel suicidal about all this debt")
    assert u.score == 1.0 and u.self_harm and u.reasons == ["vulnerable_customer"]


def test_large_amount_in_usd_equivalent():
    """Given amounts of $999.99, $1,000, €950 and ¥200,000
    When urgency is scored with each
    Then only amounts worth at least USD 1,000 flag large_amount ($1,000, €950 ≈ $1,026, ¥200,000 ≈ $1,340)."""
    assert score_urgency("x", [amount(99_999, "USD")]).reasons == []
    assert score_urgency("x", [amount(100_000, "USD")]).reasons == ["large_amount"]
    assert score_urgency("x", [amount(95_000, "EUR")]).reasons == ["large_amount"]
    assert score_urgency("x", [amount(200_000, "JPY")]).reasons == ["large_amount"]
    assert amount_in_usd(200_000, "JPY") == pytest.approx(1340.0)


def test_repeat_contact_flag_passed_in():
    """Given a neutral message and the caller's repeat_contact flag
    When urgency is scored
    Then repeat_contact is a reason even though the text says nothing about it."""
    assert score_urgency("Where is my refund", repeat_contact=True).reasons == ["repeat_contact"]


def test_reasons_combine_as_noisy_or_and_are_deterministic():
    """Given a legal threat plus time pressure
    When urgency is scored twice
    Then the score is 1 - (1-0.5)(1-0.3) = 0.65 both times and stays below 1."""
    text = "Fix this today or my lawyer takes over"
    a, b = score_urgency(text), score_urgency(text)
    assert a.score == b.score == pytest.approx(0.65)
    everything = score_urgency("lawyer CFPB hospital third time urgent", [amount(500_000, "USD")])
    assert len(everything.reasons) == 6 and 0.95 < everything.score < 1.0


@pytest.mark.parametrize("text, label", [
    ("Thank you so much, the refund arrived and you were great!", "POSITIVE"),
    ("This is a disgraceful scam, I am furious and want my money back", "NEGATIVE"),
    ("I bought a coffee on Tuesday", "NEUTRAL"),
    ("", "NEUTRAL"),
])
def test_sentiment_labels(text, label):
    """Given clearly positive, negative and neutral messages
    When local sentiment is computed
    Then the label matches and the four scores sum to 1."""
    s = analyse_sentiment(text)
    assert s.label == label
    assert set(s.scores) == {"Positive", "Negative", "Neutral", "Mixed"}
    assert sum(s.scores.values()) == pytest.approx(1.0, abs=1e-3)


def test_mixed_when_positive_and_negative_evidence_overlap():
    """Given VADER proportions with equal positive and negative evidence
    When mapped to the four labels
    Then the label is MIXED and the overlap has moved into the Mixed score."""
    s = from_vader(pos=0.3, neg=0.3, neu=0.4, compound=0.0)
    assert s.label == "MIXED"
    assert s.scores["Mixed"] == pytest.approx(0.6) and s.scores["Positive"] == 0.0


def test_sentiment_on_real_mixed_message():
    """Given a message that praises the staff and complains about the fee
    When local sentiment is computed
    Then it is MIXED (both sides carry weight)."""
    assert analyse_sentiment("Love the app, great staff, but the fee is terrible and awful").label == "MIXED"


@pytest.mark.parametrize("text, lang", [
    ("I was charged twice for my order and want my money back", "en"),
    ("Me cobraron dos veces en la tarjeta y quiero mi dinero", "es"),
    ("On m'a débité deux fois sur ma carte, je veux être remboursé", "fr"),
    ("Mir wurde die Zahlung doppelt abgebucht, bitte helfen Sie mir", "de"),
    ("Fui cobrado duas vezes no meu cartão e não recebi o reembolso", "pt"),
    ("Mi hanno addebitato due volte sulla carta e non ho ricevuto il rimborso", "it"),
    ("Ik ben twee keer gedebiteerd en ik wil mijn geld terug", "nl"),
    ("カードで二重に請求されました", "ja"),
    ("我的信用卡被重复扣款了", "zh"),
    ("С моей карты списали деньги дважды", "ru"),
    ("تم خصم المبلغ مرتين من بطاقتي", "ar"),
    ("카드에서 두 번 결제되었습니다", "ko"),
])
def test_language_identification(text, lang):
    """Given a one-sentence complaint in each supported language
    When the language is identified offline
    Then the right code comes back with confidence above 0.5."""
    g = detect_language(text)
    assert g.language == lang and g.confidence > 0.5


@pytest.mark.parametrize("text", ["", "   ", "😡😡😡", "12345 !!!", "[CARD ****1234] [EMAIL]"])
def test_language_undetermined_without_letters(text):
    """Given empty, emoji-only, digit-only or token-only text
    When the language is identified
    Then it is "und" with confidence 0."""
    g = detect_language(text)
    assert (g.language, g.confidence) == ("und", 0.0)
