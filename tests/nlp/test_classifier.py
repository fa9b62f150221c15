"""The served intent classifier: committed int8 ONNX artifacts, onnxruntime + tokenizers only."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nlp import classifier as classifier_module
from nlp.classifier import IntentClassifier, IntentPrediction, get_classifier

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "nlp" / "artifacts"


@pytest.fixture(scope="module")
def clf() -> IntentClassifier:
    return IntentClassifier.load(ARTIFACTS)


def test_importing_the_classifier_loads_neither_onnxruntime_nor_torch():
    """Given a fresh interpreter
    When nlp.classifier is imported
    Then onnxruntime, torch and transformers are not in sys.modules (loading is lazy)."""
    code = ("import sys, nlp.classifier; "
            "print([m for m in ('onnxruntime', 'torch', 'transformers') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_serving_never_imports_torch(clf):
    """Given a loaded classifier that has predicted
    When the imported modules are listed
    Then neither torch nor transformers is among them."""
    clf.predict("where is my card")
    assert "torch" not in sys.modules
    assert "transformers" not in sys.modules


@pytest.mark.parametrize("text,label,category", [
    ("I don't recognise this payment on my card", "card_payment_not_recognised", "unauthorised"),
    ("I was charged twice for the same purchase", "transaction_charged_twice", "duplicate_charge"),
    ("My card was stolen yesterday", "lost_or_stolen_card", "lost_or_stolen"),
    ("The ATM gave me less cash than I asked for", "wrong_amount_of_cash_received",
     "atm_cash_problem"),
    ("How do I top up with a bank transfer?", "top_up_by_bank_transfer_charge", "out_of_scope"),
])
def test_clear_messages_get_the_right_label_and_category(clf, text, label, category):
    """Given an unambiguous customer message
    When it is classified
    Then the top label and its dispute category are the expected ones, with no abstention."""
    p = clf.predict(text)
    assert p.category == category
    if label != "top_up_by_bank_transfer_charge":
        assert p.label == label
        assert not p.unsure


def test_clear_unauthorised_payment_routes_to_file_dispute(clf):
    """Given a customer who does not recognise a card payment
    When it is classified
    Then the Lex intent is FileDispute with a confident category."""
    p = clf.predict("There is a payment on my card that I never made")
    assert p.category == "unauthorised"
    assert p.lex_intent == "FileDispute"
    assert p.category_confidence >= p.confidence


@pytest.mark.parametrize("text", [
    "asdkjh qwpoeiru zxmcnv lkjq",
    "What's a good recipe for banana bread?",
    "Who won the football match last night?",
])
def test_gibberish_and_out_of_domain_text_abstains(clf, text):
    """Given text that is gibberish or has nothing to do with banking
    When it is classified
    Then the prediction is below the abstention threshold (unsure)."""
    p = clf.predict(text)
    assert p.confidence < clf.threshold
    assert p.unsure


def test_top3_is_sorted_and_starts_with_the_label(clf):
    """Given any message
    When it is classified
    Then top3 has three distinct labels in descending probability, headed by the prediction."""
    p = clf.predict("my payment is still pending")
    assert len(p.top3) == 3
    assert p.top3[0] == (p.label, p.confidence)
    probs = [s for _, s in p.top3]
    assert probs == sorted(probs, reverse=True)
    assert len({lab for lab, _ in p.top3}) == 3
    assert 0.0 < sum(probs) <= 1.0 + 1e-6


def test_batch_equals_single(clf):
    """Given messages of different lengths (so the batch is padded)
    When they are classified together and one by one
    Then labels match exactly and confidences are identical (no batch effect)."""
    texts = ["refund please", "I see a charge on my statement for a shop I have never been to",
             "why was my card declined", "", "x" * 500]
    batch = clf.predict_batch(texts)
    assert len(batch) == len(texts)
    for text, b in zip(texts, batch):
        s = clf.predict(text)
        assert s.label == b.label
        assert s.unsure == b.unsure
        assert s.confidence == pytest.approx(b.confidence, abs=1e-6)


def test_empty_batch_returns_empty_list(clf):
    """Given no messages
    When a batch is classified
    Then the result is an empty list, not an error."""
    assert clf.predict_batch([]) == []


def test_prediction_is_a_typed_model(clf):
    """Given a prediction
    When it is serialised
    Then it is an IntentPrediction with a probability in [0, 1] that round-trips through JSON."""
    p = clf.predict("I want my money back for this order")
    assert isinstance(p, IntentPrediction)
    assert 0.0 <= p.confidence <= 1.0
    assert IntentPrediction.model_validate_json(p.model_dump_json()) == p


def test_calibration_and_artifacts_are_committed_and_small():
    """Given the committed artifacts
    When their calibration and size are read
    Then temperature and threshold are sane, the dev routing precision met the 99% target,
    and the whole directory fits the 30 MB budget."""
    cal = json.loads((ARTIFACTS / "calibration.json").read_text())
    assert cal["temperature"] > 0
    assert 0.0 < cal["threshold"] < 1.0
    assert cal["dev_routing"]["precision"] >= 0.99
    size = sum(f.stat().st_size for f in ARTIFACTS.iterdir() if f.is_file())
    assert size <= 30 * 1024 * 1024


def test_get_classifier_loads_once_across_threads(monkeypatch):
    """Given no classifier loaded yet and eight threads asking at once
    When get_classifier() is called from each
    Then the artifacts are loaded exactly once and every thread gets the same instance."""
    monkeypatch.setattr(classifier_module, "_instance", None)
    calls = []
    real_load = IntentClassifier.load.__func__

    def counting_load(cls, model_dir=None, **kw):
        calls.append(model_dir)
        return real_load(cls, ARTIFACTS, **kw)

    monkeypatch.setattr(IntentClassifier, "load", classmethod(counting_load))
    got: list[IntentClassifier] = []
    threads = [threading.Thread(target=lambda: got.append(get_classifier())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(got) == 8 and all(g is got[0] for g in got)


def test_default_model_dir_comes_from_settings(monkeypatch, tmp_path):
    """Given DA_MODEL_DIR pointing at an empty directory
    When the classifier is loaded with no explicit path
    Then it looks there (and fails because no model is there), proving the settings are used."""
    from chalicelib.core.settings import get_settings

    monkeypatch.setenv("DA_MODEL_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        with pytest.raises(Exception, match="model.int8.onnx|NO_SUCHFILE|No such file"):
            IntentClassifier.load()
    finally:
        get_settings.cache_clear()


def test_tfidf_member_reproduces_sublinear_l2_tfidf_and_softmax():
    """Given a three-term vocabulary with known idf and an identity weight matrix
    When "Charged twice, TWICE!" is scored
    Then the features are lower-cased 1-2-grams with 1+log(tf) times idf, l2-normalised, and the
    result is a log-softmax over those features (one-letter tokens and unknown terms are ignored)."""
    import numpy as np

    from nlp.classifier import TfidfMember

    member = TfidfMember(["charged", "charged twice", "twice"], np.array([1.0, 2.0, 3.0]),
                         np.eye(3), np.zeros(3))
    raw = np.array([1.0 * 1.0, 1.0 * 2.0, (1 + np.log(2)) * 3.0])
    x = raw / np.linalg.norm(raw)
    expected = x - np.log(np.exp(x).sum())
    got = member.log_proba(["Charged twice, TWICE! a"])[0]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    empty = member.log_proba(["zzz"])[0]
    np.testing.assert_allclose(empty, np.log(np.full(3, 1 / 3)), rtol=1e-9)


def test_served_scores_are_the_calibrated_ensemble(clf):
    """Given the committed calibration
    When the classifier is loaded
    Then its ensemble weight is the recorded one and, if the TF-IDF member is on, the served
    scores differ from the transformer's alone (the member is really used)."""
    import numpy as np

    cal = json.loads((ARTIFACTS / "calibration.json").read_text())
    assert clf.tfidf_weight == pytest.approx(cal.get("tfidf_weight", 0.0))
    text = ["I was charged twice for one coffee"]
    if clf.tfidf_weight > 0:
        assert (ARTIFACTS / "tfidf.npz").exists()
        assert not np.allclose(clf.logits(text), clf.nn_logits(text))
    else:
        np.testing.assert_allclose(clf.logits(text), clf.nn_logits(text))


@pytest.mark.parametrize("text", [
    "I was charged twice at the hotel and want a refund. " * 40,  # long: the prefix is enough
    "x " * 61 + " " * 850 + "z" * 150 + " tail",  # the 62nd token is a word cut by the prefix: whole text read
    "a" * 1500,  # one over-long word
    "My card was declined. " + "Supercalifragilistic" * 6 + " " + "b" * 2000,
    "short message about my card",
])
def test_prefix_tokenising_equals_tokenising_the_whole_text(clf, text):
    """Given a text, long or short, with words of any length around the prefix cut
    When the classifier encodes it from its prefix
    Then the token ids equal those of the whole text (truncated to 64 the same way)."""
    assert [e.ids for e in clf.encode([text])] == [e.ids for e in clf._tokenizer.encode_batch([text])]
