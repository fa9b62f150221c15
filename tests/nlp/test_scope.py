"""The served scope model: its fast word-by-word featuriser counts exactly what ``features`` lists
(the definition training uses), and its per-word cache stays bounded."""
from __future__ import annotations

import numpy as np
import pytest

import nlp.scope as scope
from nlp.scope import ScopeModel, features, get_scope_model

LETTERS = [
    "The merchant charged my debit card twice for one order and the bank refused my dispute.",
    "Equifax keeps reporting a collection account on my credit report that I paid off in XX/XX/2023 {$250.00}.",
    "My mortgage servicer misapplied my escrow payment; the mortgag company's letter said otherwise.",
    "",
]


def _row_from_features(model: ScopeModel, text: str) -> dict[int, float]:
    counts: dict[int, int] = {}
    for f in features(text):
        j = model.index.get(f)
        if j is not None:
            counts[j] = counts.get(j, 0) + 1
    if not counts:
        return {}
    vals = {j: (1.0 + np.log(c)) * model.idf[j] for j, c in counts.items()}
    norm = float(np.sqrt(sum(v * v for v in vals.values())))
    return {j: v / norm for j, v in vals.items()}


@pytest.mark.parametrize("text", LETTERS)
def test_served_rows_equal_the_training_features(text):
    """Given the committed scope model and a letter
    When its TF-IDF row is built word by word (cached) and from ``features`` (what training counts)
    Then both rows are the same, twice in a row (the cache changes nothing)."""
    model = get_scope_model()
    assert model is not None
    expected = _row_from_features(model, text)
    for _ in range(2):
        cols, vals = model._row(text)
        got = dict(zip(cols.tolist(), vals.tolist()))
        assert got.keys() == expected.keys()
        assert all(abs(got[j] - expected[j]) < 1e-12 for j in got)


def test_word_cache_is_bounded(monkeypatch):
    """Given a scope model whose word cache may hold two words
    When a letter with many distinct words is scored
    Then the cache never holds more than two words and the score is unchanged."""
    model = ScopeModel.load()
    before = float(model.p_in_scope([LETTERS[1]])[0])
    monkeypatch.setattr(scope, "WORD_CACHE", 2)
    small = ScopeModel.load()
    assert float(small.p_in_scope([LETTERS[1]])[0]) == pytest.approx(before, abs=1e-12)
    assert len(small._cache) <= 2


def test_short_card_questions_are_in_scope():
    """Given the committed scope model and BANKING77 utterances it never trained on (the intent
    classifier's own dev split: short, real card and account questions)
    When each is scored against the served threshold
    Then at least nine in ten are in scope: a short email about a card is not "another product"
    (a model that had seen only long letters put three in four of them elsewhere)."""
    from training.scope import load_banking77_train
    model = get_scope_model()
    _, dev = load_banking77_train()
    share = float(np.mean(model.p_in_scope(dev) >= model.threshold))
    assert len(dev) > 900 and share >= 0.9, share


def test_inbox_share_reweights_precision_only():
    """Given 10 letters ours and 90 not, a verdict finding 8 of ours and 9 of the others
    When scored at the split's own mix, then as if 30% of letters were ours
    Then recall is 0.8 both times, precision rises from 8/17 to 8/(8 + 9·(10·0.7/0.3)/90)."""
    from training.scope import prf
    y = np.array([True] * 10 + [False] * 90)
    pred = np.array([True] * 8 + [False] * 2 + [True] * 9 + [False] * 81)
    raw, inbox = prf(y, pred), prf(y, pred, 0.3)
    assert raw["recall"] == inbox["recall"] == 0.8
    assert raw["precision"] == pytest.approx(8 / 17, abs=1e-4)
    assert inbox["precision"] == pytest.approx(8 / (8 + 9 * (10 * 0.7 / 0.3) / 90), abs=1e-4)
    assert (inbox["tp"], inbox["fp"], inbox["fn"]) == (8, 9, 2)


def test_one_softmax_gives_scope_and_product():
    """Given the committed scope model (one multinomial head over ours and six other products)
    When a card dispute, a credit-report letter and a mortgage letter are scored
    Then each row of probabilities sums to one, the card dispute is the likeliest to be ours, and
    the two others are named by their own product."""
    model = get_scope_model()
    p = model.proba(LETTERS[:3])
    assert np.allclose(p.sum(axis=1), 1.0)
    assert p[0, 0] >= model.threshold > max(p[1, 0], p[2, 0])
    assert model.product(LETTERS[1:3]) == ["credit_reporting", "mortgage"]


def test_an_artifact_of_another_head_is_refused(tmp_path):
    """Given a scope artifact whose metadata names the older one-vs-rest head
    When it is loaded
    Then it is refused with the reason (its rows are not softmax rows), not served with wrong scores."""
    import json

    from nlp.scope import ARTIFACT, META
    meta = json.loads(META.read_text(encoding="utf-8"))
    meta["head"] = "one-vs-rest"
    old = tmp_path / "scope.json"
    old.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match="softmax"):
        ScopeModel.load(ARTIFACT, old)
