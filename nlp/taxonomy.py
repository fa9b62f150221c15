"""The BANKING77 intents mapped to the dispute taxonomy of DESIGN.md and to the Lex intents.

Why a table and not rules on label names: the labels are inconsistent (``Refund_not_showing_up``,
``reverted_card_payment?``) and several near-synonyms must land in different places (a declined
*card payment* is a fraud-hold question; a declined *transfer* is general support). One literal
table is reviewable line by line and the tests check it covers the 77 labels exactly.

Scope decisions (the judgement calls):
- Transfers, top-ups, cheque/cash deposits, currency exchange in the app, card ordering/delivery,
  identity verification, PIN/passcode and account admin are ``out_of_scope``: they go to general
  support, not to the card-dispute flow (DESIGN.md: "anything else is out of scope").
- "Card not working" (physical, virtual, contactless) is ``declined_or_held``: to the customer
  it is a declined payment, and the first thing to check is a fraud hold or block.
- ``card_swallowed`` is an ATM problem; ``compromised_card`` is ``unauthorised`` (the customer
  suspects use they did not make) but goes to an agent, like lost or stolen cards, because the
  card must be blocked and reissued first.
- ``not_received``, ``not_as_described`` and ``cancelled_recurring`` have no BANKING77 label
  (the data set has no merchant-dispute intents); they stay in ``CATEGORIES`` for the rules and the
  Lex ``FileDispute`` slot, and the classifier never predicts them.
"""
from __future__ import annotations

from typing import Final

CATEGORIES: Final[list[str]] = [
    "unauthorised",
    "duplicate_charge",
    "incorrect_amount",
    "not_received",
    "not_as_described",
    "refund_not_processed",
    "cancelled_recurring",
    "declined_or_held",
    "pending_charge",
    "atm_cash_problem",
    "lost_or_stolen",
    "out_of_scope",
]

LEX_INTENTS: Final[list[str]] = [
    "LookupTransaction",
    "ExplainHold",
    "FileDispute",
    "DisputeStatus",
    "TalkToAgent",
    "LostCard",
]

DISPUTE_REASONS: Final[list[str]] = [
    "unauthorised",
    "duplicate",
    "wrong_amount",
    "not_received",
    "not_as_described",
    "refund_not_processed",
    "cancelled_subscription",
]

_OOS = "out_of_scope"

# label -> (category, Lex intent or None)
_TABLE: Final[dict[str, tuple[str, str | None]]] = {
    # unauthorised / not recognised
    "card_payment_not_recognised": ("unauthorised", "FileDispute"),
    "cash_withdrawal_not_recognised": ("unauthorised", "FileDispute"),
    "direct_debit_payment_not_recognised": ("unauthorised", "FileDispute"),
    "compromised_card": ("unauthorised", "TalkToAgent"),
    # duplicate charge
    "transaction_charged_twice": ("duplicate_charge", "FileDispute"),
    # incorrect amount (extra charge, exchange rate, fees on a card payment or withdrawal)
    "extra_charge_on_statement": ("incorrect_amount", "FileDispute"),
    "card_payment_wrong_exchange_rate": ("incorrect_amount", "FileDispute"),
    "wrong_exchange_rate_for_cash_withdrawal": ("incorrect_amount", "FileDispute"),
    "card_payment_fee_charged": ("incorrect_amount", "FileDispute"),
    "cash_withdrawal_charge": ("incorrect_amount", "FileDispute"),
    # refund / credit not processed
    "request_refund": ("refund_not_processed", "FileDispute"),
    "Refund_not_showing_up": ("refund_not_processed", "FileDispute"),
    "reverted_card_payment?": ("refund_not_processed", "LookupTransaction"),
    # declined or held
    "declined_card_payment": ("declined_or_held", "ExplainHold"),
    "card_not_working": ("declined_or_held", "ExplainHold"),
    "contactless_not_working": ("declined_or_held", "ExplainHold"),
    "virtual_card_not_working": ("declined_or_held", "ExplainHold"),
    # pending charge
    "pending_card_payment": ("pending_charge", "LookupTransaction"),
    "pending_cash_withdrawal": ("pending_charge", "LookupTransaction"),
    # ATM cash problem
    "wrong_amount_of_cash_received": ("atm_cash_problem", "FileDispute"),
    "declined_cash_withdrawal": ("atm_cash_problem", "ExplainHold"),
    "card_swallowed": ("atm_cash_problem", "TalkToAgent"),
    # lost or stolen
    "lost_or_stolen_card": ("lost_or_stolen", "LostCard"),  # freeze at once, then the fraud queue (issue 13)
    "lost_or_stolen_phone": ("lost_or_stolen", "LostCard"),  # the cards in its wallet app go with it
    # out of scope: general support
    "activate_my_card": (_OOS, None),
    "age_limit": (_OOS, None),
    "apple_pay_or_google_pay": (_OOS, None),
    "atm_support": (_OOS, None),
    "automatic_top_up": (_OOS, None),
    "balance_not_updated_after_bank_transfer": (_OOS, None),
    "balance_not_updated_after_cheque_or_cash_deposit": (_OOS, None),
    "beneficiary_not_allowed": (_OOS, None),
    "cancel_transfer": (_OOS, None),
    "card_about_to_expire": (_OOS, None),
    "card_acceptance": (_OOS, None),
    "card_arrival": (_OOS, None),
    "card_delivery_estimate": (_OOS, None),
    "card_linking": (_OOS, None),
    "change_pin": (_OOS, None),
    "country_support": (_OOS, None),
    "declined_transfer": (_OOS, None),
    "disposable_card_limits": (_OOS, None),
    "edit_personal_details": (_OOS, None),
    "exchange_charge": (_OOS, None),
    "exchange_rate": (_OOS, None),
    "exchange_via_app": (_OOS, None),
    "failed_transfer": (_OOS, None),
    "fiat_currency_support": (_OOS, None),
    "get_disposable_virtual_card": (_OOS, None),
    "get_physical_card": (_OOS, None),
    "getting_spare_card": (_OOS, None),
    "getting_virtual_card": (_OOS, None),
    "order_physical_card": (_OOS, None),
    "passcode_forgotten": (_OOS, None),
    "pending_top_up": (_OOS, None),
    "pending_transfer": (_OOS, None),
    "pin_blocked": (_OOS, None),
    "receiving_money": (_OOS, None),
    "supported_cards_and_currencies": (_OOS, None),
    "terminate_account": (_OOS, None),
    "top_up_by_bank_transfer_charge": (_OOS, None),
    "top_up_by_card_charge": (_OOS, None),
    "top_up_by_cash_or_cheque": (_OOS, None),
    "top_up_failed": (_OOS, None),
    "top_up_limits": (_OOS, None),
    "top_up_reverted": (_OOS, None),
    "topping_up_by_card": (_OOS, None),
    "transfer_fee_charged": (_OOS, None),
    "transfer_into_account": (_OOS, None),
    "transfer_not_received_by_recipient": (_OOS, None),
    "transfer_timing": (_OOS, None),
    "unable_to_verify_identity": (_OOS, None),
    "verify_my_identity": (_OOS, None),
    "verify_source_of_funds": (_OOS, None),
    "verify_top_up": (_OOS, None),
    "visa_or_mastercard": (_OOS, None),
    "why_verify_identity": (_OOS, None),
}

_REASONS: Final[dict[str, str | None]] = {
    "unauthorised": "unauthorised",
    "duplicate_charge": "duplicate",
    "incorrect_amount": "wrong_amount",
    "not_received": "not_received",
    "not_as_described": "not_as_described",
    "refund_not_processed": "refund_not_processed",
    "cancelled_recurring": "cancelled_subscription",
    # An ATM that dispensed the wrong amount is an incorrect-amount dispute; the other ATM labels
    # (declined withdrawal, swallowed card) are routed away from FileDispute by their Lex intent.
    "atm_cash_problem": "wrong_amount",
    "declined_or_held": None,
    "pending_charge": None,
    "lost_or_stolen": None,
    "out_of_scope": None,
}

LABELS: Final[list[str]] = sorted(_TABLE)


def label_to_category(label: str) -> str:
    """Dispute category of a BANKING77 label; unknown labels are an error, not out_of_scope."""
    try:
        return _TABLE[label][0]
    except KeyError:
        raise ValueError(f"unknown BANKING77 label: {label!r}") from None


def label_to_lex_intent(label: str) -> str | None:
    """Lex intent that serves this label, or None when general support should take it."""
    try:
        return _TABLE[label][1]
    except KeyError:
        raise ValueError(f"unknown BANKING77 label: {label!r}") from None


def category_to_dispute_reason(category: str) -> str | None:
    """Dispute reason to file for a category, or None when the category is not a dispute."""
    try:
        return _REASONS[category]
    except KeyError:
        raise ValueError(f"unknown dispute category: {category!r}") from None
