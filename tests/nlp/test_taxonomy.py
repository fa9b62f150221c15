"""The taxonomy must cover the classifier's 77 labels exactly and route each one somewhere valid."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp import taxonomy
from nlp.taxonomy import (CATEGORIES, DISPUTE_REASONS, LEX_INTENTS, category_to_dispute_reason,
                          label_to_category, label_to_lex_intent)

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVED_LABELS = json.loads((REPO_ROOT / "nlp" / "artifacts" / "labels.json").read_text())
BANKING77_CATEGORIES = REPO_ROOT.parent / "shared" / "data" / "banking77" / "categories.json"


def test_taxonomy_covers_exactly_the_served_labels():
    """Given the labels the committed model predicts
    When they are compared with the taxonomy table
    Then both sets are the same 77 labels (none missing, none invented)."""
    assert len(SERVED_LABELS) == 77
    assert set(taxonomy.LABELS) == set(SERVED_LABELS)


@pytest.mark.skipif(not BANKING77_CATEGORIES.exists(), reason="shared BANKING77 data not present")
def test_taxonomy_covers_exactly_the_banking77_label_list():
    """Given BANKING77's own categories.json
    When it is compared with the taxonomy
    Then they hold exactly the same labels, odd spellings included."""
    assert set(json.loads(BANKING77_CATEGORIES.read_text())) == set(taxonomy.LABELS)


@pytest.mark.parametrize("label", SERVED_LABELS)
def test_every_label_maps_to_a_known_category_and_intent(label):
    """Given any served label
    When it is mapped
    Then its category is in CATEGORIES and its Lex intent is a known intent or None."""
    assert label_to_category(label) in CATEGORIES
    assert label_to_lex_intent(label) in [*LEX_INTENTS, None]


@pytest.mark.parametrize("label,category", [
    ("card_payment_not_recognised", "unauthorised"),
    ("cash_withdrawal_not_recognised", "unauthorised"),
    ("direct_debit_payment_not_recognised", "unauthorised"),
    ("compromised_card", "unauthorised"),
    ("transaction_charged_twice", "duplicate_charge"),
    ("extra_charge_on_statement", "incorrect_amount"),
    ("card_payment_wrong_exchange_rate", "incorrect_amount"),
    ("wrong_exchange_rate_for_cash_withdrawal", "incorrect_amount"),
    ("card_payment_fee_charged", "incorrect_amount"),
    ("cash_withdrawal_charge", "incorrect_amount"),
    ("request_refund", "refund_not_processed"),
    ("Refund_not_showing_up", "refund_not_processed"),
    ("reverted_card_payment?", "refund_not_processed"),
    ("declined_card_payment", "declined_or_held"),
    ("pending_card_payment", "pending_charge"),
    ("pending_cash_withdrawal", "pending_charge"),
    ("wrong_amount_of_cash_received", "atm_cash_problem"),
    ("declined_cash_withdrawal", "atm_cash_problem"),
    ("lost_or_stolen_card", "lost_or_stolen"),
    ("lost_or_stolen_phone", "lost_or_stolen"),
    ("top_up_failed", "out_of_scope"),
    ("declined_transfer", "out_of_scope"),
    ("card_arrival", "out_of_scope"),
])
def test_dispute_labels_land_in_their_design_category(label, category):
    """Given a label named in the design's taxonomy
    When it is mapped
    Then it lands in the category the design gives it."""
    assert label_to_category(label) == category


def test_out_of_scope_labels_have_no_lex_intent_and_no_dispute_reason():
    """Given the out-of-scope labels
    When they are routed
    Then no Lex intent takes them and no dispute can be filed for them."""
    oos = [lab for lab in SERVED_LABELS if label_to_category(lab) == "out_of_scope"]
    assert len(oos) > 30
    assert all(label_to_lex_intent(lab) is None for lab in oos)
    assert category_to_dispute_reason("out_of_scope") is None


def test_every_file_dispute_label_has_a_dispute_reason():
    """Given the labels routed to FileDispute
    When their category is turned into a dispute reason
    Then there is one, and it is one of the reasons the case model accepts."""
    filing = [lab for lab in SERVED_LABELS if label_to_lex_intent(lab) == "FileDispute"]
    assert "card_payment_not_recognised" in filing
    for lab in filing:
        assert category_to_dispute_reason(label_to_category(lab)) in DISPUTE_REASONS


def test_every_category_has_a_reason_entry_and_reasons_are_valid():
    """Given every category
    When its dispute reason is asked for
    Then it is a known reason or None, and the disputable categories use distinct reasons."""
    reasons = {c: category_to_dispute_reason(c) for c in CATEGORIES}
    assert all(r in [*DISPUTE_REASONS, None] for r in reasons.values())
    assert reasons["duplicate_charge"] == "duplicate"
    assert reasons["cancelled_recurring"] == "cancelled_subscription"
    assert reasons["pending_charge"] is None


def test_unknown_names_are_errors_not_out_of_scope():
    """Given a label or category that does not exist
    When it is mapped
    Then a ValueError says so (a typo must not silently become out_of_scope)."""
    with pytest.raises(ValueError):
        label_to_category("refund_not_showing_up")
    with pytest.raises(ValueError):
        label_to_lex_intent("reverted_card_payment")
    with pytest.raises(ValueError):
        category_to_dispute_reason("fraud")
