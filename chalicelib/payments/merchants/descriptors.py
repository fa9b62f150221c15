"""Explaining a statement descriptor in words a customer reads: which processor or platform the
prefix names, what an order reference is, and which merchant and store the rest is.

"I don't recognise this charge" is very often a descriptor problem, not fraud.
"""
from __future__ import annotations

import re

from chalicelib.payments.merchants.directory import find_merchant



def _table(rows: list[tuple[str, str]]) -> tuple[tuple[re.Pattern, str], ...]:
    """(pattern, explanation) rows compiled once, case-insensitive (statements vary in case)."""
    return tuple((re.compile(p, re.I), text) for p, text in rows)


# Processor / platform prefixes seen before the merchant's own name.
_PROCESSORS = _table([
        (r"^SQ ?\*", "“SQ *” means the business took the payment with Square, a card reader and online "
                     "checkout used by many small businesses"),
        (r"^TST ?\*", "“TST*” means the payment went through Toast, a point-of-sale system used by restaurants"),
        (r"^(PAYPAL|PP) ?\*", "“PAYPAL *” (or “PP*”) means you paid through PayPal; the name after the * "
                              "is the seller's PayPal account name"),
        (r"^SP ?\* ?", "“SP *” means an online shop running on Shopify"),
        (r"^DD ?\*", "“DD *” means an order placed through DoorDash"),
        (r"^IN ?\*", "“IN *” means an invoice paid through Intuit (QuickBooks) payments"),
        (r"^SQSP\*", "“SQSP*” means a website or subscription billed through Squarespace"),
        (r"^EB ?\*", "“EB *” means a ticket bought through Eventbrite"),
        (r"^FS ?\*", "“FS *” means software sold through the FastSpring reseller"),
        (r"^PADDLE\.NET\*", "“PADDLE.NET*” means software sold through the Paddle reseller"),
        (r"^(WPY|CKO|STRIPE) ?\*", "the letters before the * name the payment processor the merchant uses"),
        (r"^GOOGLE ?\*", "“GOOGLE *” means a charge billed by Google; the name after the * is the service "
                         "or app (for example YouTube, Google One or a Play Store app)"),
        (r"^WU ?\*", "“WU *” means a Western Union money transfer"),
])

# Descriptor families that deserve their own explanation.
_SPECIAL = _table([
        (r"^AMZN MKTP US\*?(\w+)?", "“AMZN MKTP US” is Amazon Marketplace: a purchase on amazon.com, which "
                                    "may be an item sold by a third-party seller{ref}"),
        (r"^AMAZON\.COM\*?(\w+)?", "“AMAZON.COM” is an order on amazon.com{ref}"),
        (r"^AMZN DIGITAL\*?(\w+)?", "“AMZN Digital” is an Amazon digital purchase (Kindle book, Prime Video "
                                    "rental, app){ref}"),
        (r"^AMAZON PRIME\*?(\w+)?", "“Amazon Prime” is the Amazon Prime membership fee{ref}"),
        (r"^APPLE\.COM/BILL", "“APPLE.COM/BILL” is a charge from Apple: an App Store or in-app purchase, iCloud "
                              "storage, Apple Music or another Apple subscription; your Apple ID's purchase "
                              "history lists each one"),
        (r"^UBER \*EATS", "“UBER *EATS” is an Uber Eats food delivery order"),
        (r"^UBER \*TRIP", "“UBER *TRIP” is an Uber ride"),
        (r"^LYFT +\*", "“LYFT *RIDE” is a Lyft ride"),
        (r"^WM SUPERCENTER", "“WM SUPERCENTER” is a Walmart Supercenter store{store}"),
        (r"^(ATM|NON-\w+ ATM)\b", "this is a cash withdrawal at an ATM{store}"),
        (r"^NETFLIX\.COM", "“NETFLIX.COM” is the Netflix streaming subscription"),
        (r"^SPOTIFY", "“SPOTIFY” is the Spotify music subscription"),
        (r"^WHOLEFDS", "“WHOLEFDS” is Whole Foods Market; the letters and number after it are the store"),
        (r"^COSTCO WHSE", "“COSTCO WHSE” is a Costco Wholesale warehouse{store}"),
        (r"^MICROSOFT\*XBOX", "“MICROSOFT*XBOX” is an Xbox purchase or Game Pass subscription"),
        (r"^DELTA AIR \d", "“DELTA AIR” is a Delta Air Lines ticket; the number after it is the ticket number"),
        (r"^UNITED \d", "“UNITED” is a United Airlines ticket; the number after it is the ticket number"),
        (r"^SOUTHWES \d", "“SOUTHWES” is a Southwest Airlines ticket (the name is cut to 8 letters); the "
                          "number after it is the ticket number"),
        (r"^STEAMGAMES", "“STEAMGAMES.COM” is a purchase on Valve's Steam games store"),
])

_STORE_NO = re.compile(r"(?:#\s?(\d{2,})|\s(\d{3,}))\*?$")


def _store_note(descriptor: str) -> str:
    m = _STORE_NO.search(descriptor.strip())
    if not m:
        return ""
    return f"; the number {m.group(1) or m.group(2)} identifies the store or terminal"


def explain_descriptor(descriptor: str) -> str | None:
    """A customer-readable explanation of a statement descriptor, or None if we know nothing
    useful about it (the caller then just shows the merchant name)."""
    if not descriptor or not descriptor.strip():
        return None
    d = " ".join(descriptor.split())
    merchant = find_merchant(d)
    for rx, text in _SPECIAL:
        m = rx.match(d)
        if m:
            ref = ""
            if "{ref}" in text:
                suffix = d.split("*", 1)[1].split()[0] if "*" in d else ""
                if suffix:
                    ref = f"; the code after the * ({suffix}) is an order reference, not a merchant name"
            return text.format(ref=ref, store=_store_note(d)) + "."
    for rx, text in _PROCESSORS:
        m = rx.match(d)
        if m:
            rest = d[m.end():].strip()
            who = merchant.name if merchant and merchant.weight and merchant.key != "paypal_seller" else rest
            return f"{text}; the merchant is {who}." if who else f"{text}."
    if merchant:
        note = _store_note(d)
        return f"“{d}” is {merchant.name} ({merchant.category}){note}."
    note = _store_note(d)
    if note:
        return f"“{d}” is the merchant's name as its bank sends it{note}."
    return None
