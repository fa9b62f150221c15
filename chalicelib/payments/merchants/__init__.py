"""Merchant directory: how merchants appear on card statements, and how to match what a customer
says ("the amazon one", "starbuks") to what the statement says ("AMZN MKTP US*2K4").

Why this exists: "I don't recognise this charge" is very often a descriptor problem, not fraud.
Statements show the acquirer's descriptor (processor prefix, truncated name, store number, order
reference), so the assistant must both explain descriptors and match customers' words to them.

Standard library only (difflib + token logic): it runs on every lookup turn inside the hook's
latency budget, and adds nothing to the Lambda package.
"""
from chalicelib.payments.merchants.descriptors import explain_descriptor
from chalicelib.payments.merchants.directory import (
    MCC_DESCRIPTIONS,
    MERCHANTS,
    MERCHANTS_BY_KEY,
    Merchant,
    find_merchant,
    render_descriptor,
)
from chalicelib.payments.merchants.name_match import merchant_match_score

__all__ = ["MCC_DESCRIPTIONS", "MERCHANTS", "MERCHANTS_BY_KEY", "Merchant", "explain_descriptor", "find_merchant",
           "merchant_match_score", "render_descriptor"]
