"""Merchant directory: how merchants appear on card statements, and how to match what a customer
says ("the amazon one", "starbuks") to what the statement says ("AMZN MKTP US*2K4").

Why this exists: "I don't recognise this charge" is very often a descriptor problem, not fraud.
Statements show the acquirer's descriptor (processor prefix, truncated name, store number, order
reference), so the assistant must both explain descriptors and match customers' words to them.

Standard library only (difflib + token logic): it runs on every lookup turn inside the hook's
latency budget, and adds nothing to the Lambda package.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from chalicelib.payments.not_merchants import is_ordinary_word
from functools import lru_cache

# ISO 18245 merchant category codes used by the directory (customer-readable category names).
MCC_DESCRIPTIONS: dict[str, str] = {
    "4111": "commuter transport",
    "4121": "taxis and rideshare",
    "4511": "airlines",
    "4722": "travel agencies",
    "4784": "tolls and bridge fees",
    "4814": "telecommunication services",
    "4829": "money transfer",
    "4899": "cable, satellite and streaming TV",
    "5200": "home supply warehouse stores",
    "5300": "wholesale clubs",
    "5310": "discount stores",
    "5311": "department stores",
    "5411": "grocery stores and supermarkets",
    "5541": "fuel stations",
    "5651": "family clothing stores",
    "5661": "shoe stores",
    "5712": "furniture stores",
    "5732": "electronics stores",
    "5734": "computer software stores",
    "5812": "restaurants",
    "5814": "fast food and coffee shops",
    "5815": "digital goods: books, movies, music",
    "5816": "digital goods: games",
    "5817": "digital goods: applications",
    "5818": "digital goods: large digital goods merchants",
    "5912": "pharmacies",
    "5942": "book stores",
    "5968": "subscription merchants",
    "5999": "miscellaneous retail",
    "6011": "ATM cash withdrawals",
    "6051": "cryptocurrency and quasi-cash",
    "6300": "insurance",
    "7011": "hotels and lodging",
    "7523": "parking",
    "7995": "gambling and betting",
    "7997": "gyms and clubs",
}


@dataclass(frozen=True)
class Merchant:
    """One merchant as it appears on statements.

    ``descriptors`` are templates: ``{nK}`` is K digits (store / terminal / ticket numbers),
    ``{rK}`` is K uppercase letters-or-digits (order references), ``{pick}`` is one of ``picks``.
    ``amount_range`` is the typical charge in minor units; ``weight`` how often the demo data
    uses it (0 = never picked at random).
    """

    key: str
    name: str
    descriptors: tuple[str, ...]
    mcc: str
    amount_range: tuple[int, int]
    channel: str  # card_present | ecommerce | atm | recurring
    aliases: tuple[str, ...] = ()
    weight: float = 1.0
    picks: tuple[str, ...] = field(default=())

    @property
    def category(self) -> str:
        return MCC_DESCRIPTIONS.get(self.mcc, "other merchants")


def _m(key, name, descriptors, mcc, lo, hi, channel, aliases=(), weight=1.0, picks=()) -> Merchant:
    if isinstance(descriptors, str):
        descriptors = (descriptors,)
    return Merchant(key, name, tuple(descriptors), mcc, (lo, hi), channel, tuple(aliases), weight, tuple(picks))


MERCHANTS: tuple[Merchant, ...] = (
    # Marketplaces and online retail
    _m("amazon_mktp", "Amazon Marketplace", ("AMZN MKTP US*{r3}", "AMZN Mktp US*{r6}"), "5942", 699, 18999,
       "ecommerce", ("amazon", "amazon marketplace", "amzn"), 6),
    _m("amazon_com", "Amazon.com", "AMAZON.COM*{r6} AMZN.COM/BILL", "5942", 899, 24999, "ecommerce",
       ("amazon", "amazon com"), 3),
    _m("amazon_prime", "Amazon Prime", "Amazon Prime*{r6}", "5968", 1499, 1499, "recurring",
       ("amazon prime", "prime membership", "prime"), 1),
    _m("amazon_digital", "Amazon Digital (Kindle, Prime Video)", "AMZN Digital*{r6}", "5815", 199, 1999, "ecommerce",
       ("kindle", "prime video", "amazon digital"), 1.5),
    _m("audible", "Audible", "Audible*{r6}", "5815", 1495, 1495, "recurring", ("audible", "audiobooks"), 0.6),
    _m("ebay", "eBay", "eBay O*{n2}-{n5}-{n5}", "5999", 999, 25999, "ecommerce", ("ebay",), 1.2),
    _m("etsy", "Etsy", "ETSY, INC.", "5999", 1299, 8999, "ecommerce", ("etsy",), 0.8),
    _m("walmart_com", "Walmart.com", "WALMART.COM {n8}", "5310", 1299, 19999, "ecommerce",
       ("walmart", "walmart com", "wal mart"), 1),
    _m("target", "Target", "TARGET {n8}", "5310", 899, 21999, "card_present", ("target",), 3),
    _m("temu", "Temu", "TEMU.COM", "5999", 899, 6999, "ecommerce", ("temu",), 0.8),
    _m("allbirds", "Allbirds (Shopify store)", "SP * ALLBIRDS", "5661", 9800, 16500, "ecommerce",
       ("allbirds",), 0.4),
    _m("paypal_seller", "PayPal seller", "PAYPAL *{pick}", "5999", 1500, 12000, "ecommerce",
       ("paypal",), 1.2, ("VINTAGEFINDS", "JOHNSMITH77", "GEARDEPOT", "CRAFTYKAT")),
    _m("bestbuy_com", "Best Buy", "BESTBUY.COM {n8}", "5732", 1999, 129999, "ecommerce",
       ("best buy", "bestbuy"), 0.6),
    _m("bestbuy_store", "Best Buy", "BEST BUY {n8}", "5732", 1499, 89999, "card_present",
       ("best buy", "bestbuy"), 0.6),
    _m("barnes_noble", "Barnes & Noble", "BARNES & NOBLE #{n4}", "5942", 999, 5999, "card_present",
       ("barnes and noble", "barnes noble"), 0.6),
    # Streaming, digital goods and subscriptions
    _m("netflix", "Netflix", "NETFLIX.COM", "4899", 699, 2299, "recurring", ("netflix",), 1),
    _m("hulu", "Hulu", "HULU 877-8244858", "4899", 799, 1799, "recurring", ("hulu",), 0.6),
    _m("disney_plus", "Disney+", "DISNEY PLUS", "4899", 799, 1399, "recurring", ("disney plus", "disney"), 0.6),
    _m("comcast", "Xfinity (Comcast)", "COMCAST CABLE COMM", "4899", 5999, 12999, "recurring",
       ("comcast", "xfinity", "cable bill"), 0.6),
    _m("spotify", "Spotify", "SPOTIFY USA", "5815", 1099, 1699, "recurring", ("spotify",), 1),
    _m("apple", "Apple (App Store, iCloud, subscriptions)", "APPLE.COM/BILL", "5818", 99, 1999, "recurring",
       ("apple", "itunes", "app store", "icloud", "apple music"), 2),
    _m("google_youtube", "YouTube Premium (Google)", "GOOGLE *YouTube", "5815", 1399, 2299, "recurring",
       ("youtube", "youtube premium", "google"), 0.8),
    _m("google_storage", "Google One storage", "GOOGLE *Google One", "5818", 199, 999, "recurring",
       ("google one", "google storage", "google"), 0.6),
    _m("google_play", "Google Play", "GOOGLE *{pick}", "5817", 99, 4999, "ecommerce",
       ("google play", "play store", "google"), 0.6, ("Supercell", "Spotify", "Duolingo", "King.com")),
    _m("xbox", "Xbox (Microsoft)", "MICROSOFT*XBOX", "5816", 999, 6999, "ecommerce", ("xbox", "microsoft"), 0.6),
    _m("steam", "Steam (Valve)", "STEAMGAMES.COM 4259522985", "5816", 499, 5999, "ecommerce",
       ("steam", "steam games"), 0.6),
    _m("playstation", "PlayStation Network", "PlayStation Network", "5816", 999, 6999, "ecommerce",
       ("playstation", "psn", "sony"), 0.5),
    _m("openai", "OpenAI ChatGPT", "OPENAI *CHATGPT SUBSCR", "5734", 2000, 2000, "recurring",
       ("chatgpt", "openai"), 0.4),
    _m("adobe", "Adobe", "ADOBE *ACROPRO SUBS", "5818", 1999, 5499, "recurring", ("adobe", "acrobat"), 0.4),
    _m("verizon", "Verizon Wireless", "VERIZON WRLS {n5}-01", "4814", 6500, 14500, "recurring",
       ("verizon", "phone bill"), 0.6),
    _m("att", "AT&T", "AT&T*BILL PAYMENT", "4814", 5500, 13000, "recurring", ("at and t", "att", "at&t"), 0.5),
    _m("geico", "GEICO", "GEICO *AUTO", "6300", 9800, 21000, "recurring", ("geico", "car insurance"), 0.4),
    _m("planet_fitness", "Planet Fitness", "PLANET FITNESS", "7997", 1000, 2499, "recurring",
       ("planet fitness", "gym"), 0.6),
    # Rides and delivery
    _m("uber_trip", "Uber (ride)", "UBER *TRIP", "4121", 799, 6499, "ecommerce", ("uber", "uber ride"), 2.5),
    _m("uber_eats", "Uber Eats", "UBER *EATS", "5812", 1499, 5999, "ecommerce", ("uber eats", "ubereats"), 2),
    _m("lyft", "Lyft", "LYFT   *RIDE", "4121", 699, 5499, "ecommerce", ("lyft",), 1),
    _m("doordash", "DoorDash", "DD *DOORDASH {pick}", "5812", 1599, 6499, "ecommerce", ("doordash", "door dash"),
       1.5, ("CHIPOTLE", "PANDAEXPRE", "SHAKESHACK", "SWEETGREEN")),
    _m("grubhub", "Grubhub", "GRUBHUB*{pick}", "5812", 1599, 5999, "ecommerce", ("grubhub", "grub hub"),
       0.8, ("JOESPIZZA", "THAIVILLA", "BURGERJOINT")),
    _m("instacart", "Instacart", "INSTACART", "5411", 3500, 18999, "ecommerce", ("instacart",), 0.8),
    # Coffee, fast food, restaurants
    _m("starbucks", "Starbucks", "STARBUCKS STORE {n5}", "5814", 345, 1450, "card_present",
       ("starbucks", "sbux"), 6),
    _m("blue_bottle", "Blue Bottle Coffee", "SQ *BLUE BOTTLE COFFEE", "5814", 450, 1600, "card_present",
       ("blue bottle", "blue bottle coffee"), 2),
    _m("dunkin", "Dunkin'", "DUNKIN #{n6}", "5814", 289, 1199, "card_present", ("dunkin", "dunkin donuts"), 2),
    _m("mcdonalds", "McDonald's", "MCDONALD'S F{n5}", "5814", 499, 1899, "card_present",
       ("mcdonalds", "mcd", "maccas"), 2.5),
    _m("chipotle", "Chipotle", "CHIPOTLE {n4}", "5814", 1050, 2499, "card_present", ("chipotle",), 2),
    _m("chick_fil_a", "Chick-fil-A", "CHICK-FIL-A #{n5}", "5814", 799, 2199, "card_present",
       ("chick fil a", "chickfila"), 1.5),
    _m("subway", "Subway", "SUBWAY {n8}", "5814", 699, 1799, "card_present", ("subway",), 1.5),
    _m("joes_pizza", "Joe's Pizza", "TST* JOES PIZZA", "5812", 1200, 4800, "card_present", ("joes pizza",), 1),
    _m("the_smith", "The Smith", "TST* THE SMITH - NOMAD", "5812", 4500, 18000, "card_present",
       ("the smith",), 0.6),
    _m("tacos_el_gordo", "Tacos El Gordo", "SQ *TACOS EL GORDO", "5812", 900, 3200, "card_present",
       ("tacos el gordo", "el gordo"), 1),
    _m("olive_garden", "Olive Garden", "OLIVE GARDEN {n4}", "5812", 2800, 9500, "card_present", ("olive garden",), 1),
    # Groceries and everyday retail
    _m("walmart", "Walmart Supercenter", "WM SUPERCENTER #{n4}", "5411", 1200, 22000, "card_present",
       ("walmart", "wal mart", "walmart supercenter"), 4),
    _m("costco", "Costco Wholesale", "COSTCO WHSE #{n4}", "5300", 4500, 42000, "card_present",
       ("costco",), 2),
    _m("kroger", "Kroger", "KROGER #{n3}", "5411", 1500, 18000, "card_present", ("kroger",), 3),
    _m("whole_foods", "Whole Foods Market", "WHOLEFDS {pick} {n5}", "5411", 1500, 16000, "card_present",
       ("whole foods", "wholefoods"), 2, ("HOU", "BRK", "SFO", "CHI")),
    _m("trader_joes", "Trader Joe's", "TRADER JOE S #{n3}", "5411", 1800, 12000, "card_present",
       ("trader joes", "trader joe"), 2),
    _m("safeway", "Safeway", "SAFEWAY #{n4}", "5411", 1200, 14000, "card_present", ("safeway",), 2),
    _m("home_depot", "The Home Depot", "THE HOME DEPOT #{n4}", "5200", 1500, 45000, "card_present",
       ("home depot",), 1),
    _m("lowes", "Lowe's", "LOWES #{n5}*", "5200", 1500, 38000, "card_present", ("lowes",), 0.8),
    _m("ikea", "IKEA", "IKEA {pick}", "5712", 2500, 65000, "card_present", ("ikea",), 0.4,
       ("BROOKLYN", "BURBANK", "HOUSTON")),
    _m("cvs", "CVS Pharmacy", "CVS/PHARMACY #{n5}", "5912", 499, 6500, "card_present", ("cvs",), 2),
    _m("walgreens", "Walgreens", "WALGREENS #{n5}", "5912", 499, 5500, "card_present", ("walgreens",), 1.5),
    # Fuel
    _m("shell", "Shell", "SHELL OIL {n5}", "5541", 2500, 9500, "card_present", ("shell", "shell gas"), 2),
    _m("chevron", "Chevron", "CHEVRON {n7}", "5541", 2500, 9500, "card_present", ("chevron",), 2),
    _m("exxon", "ExxonMobil", "EXXONMOBIL {n8}", "5541", 2500, 9500, "card_present", ("exxon", "mobil"), 1.5),
    _m("bp", "BP", "BP#{n7}", "5541", 2500, 9000, "card_present", ("bp",), 1),
    # Travel
    _m("delta", "Delta Air Lines", "DELTA AIR 006{n4}", "4511", 12900, 89000, "ecommerce",
       ("delta", "delta airlines", "delta air lines"), 0.4),
    _m("united", "United Airlines", "UNITED 016{n7}", "4511", 11900, 79000, "ecommerce",
       ("united", "united airlines"), 0.3),
    _m("southwest", "Southwest Airlines", "SOUTHWES {n10}", "4511", 8900, 49000, "ecommerce",
       ("southwest", "southwest airlines"), 0.3),
    _m("airbnb", "Airbnb", "AIRBNB * HM{r8}", "4722", 15000, 120000, "ecommerce", ("airbnb",), 0.3),
    _m("booking", "Booking.com", "BOOKING.COM HOTEL", "4722", 9000, 90000, "ecommerce",
       ("booking com", "booking"), 0.3),
    _m("marriott", "Marriott", "MARRIOTT {pick}", "7011", 15000, 60000, "card_present", ("marriott",), 0.3,
       ("DOWNTOWN CHI", "TIMES SQ", "SFO AIRPORT")),
    _m("ezpass", "E-ZPass", "E-ZPASS NY REBILL", "4784", 2500, 2500, "recurring", ("ezpass", "e zpass", "tolls"), 0.5),
    _m("parkmobile", "ParkMobile", "PARKMOBILE {n6}", "7523", 200, 2400, "ecommerce", ("parkmobile", "parking"), 0.8),
    _m("mta", "MTA (subway / bus fares)", "MTA*NYCT PAYGO", "4111", 290, 290, "card_present",
       ("mta", "metro", "omny"), 1),
    # Cash
    _m("atm", "ATM cash withdrawal", "ATM WITHDRAWAL {n6} {pick}", "6011", 2000, 40000, "atm",
       ("atm", "cash", "cash withdrawal"), 1.2, ("MAIN ST", "5TH AVE", "MARKET ST", "BROADWAY")),
    _m("atm_7eleven", "ATM at 7-Eleven (Cardtronics)", "ATM W/D 7-ELEVEN {n5}", "6011", 2000, 20000, "atm",
       ("atm", "cash", "7 eleven atm"), 0.5),
    # Higher-risk categories (fraud rules and customer category blocks act on these)
    _m("draftkings", "DraftKings", "DRAFTKINGS", "7995", 1000, 20000, "ecommerce",
       ("draftkings", "draft kings", "betting"), 0.2),
    _m("fanduel", "FanDuel Sportsbook", "FANDUEL SPORTSBOOK", "7995", 1000, 20000, "ecommerce",
       ("fanduel", "fan duel", "betting"), 0.2),
    _m("coinbase", "Coinbase", "COINBASE.COM", "6051", 5000, 100000, "ecommerce", ("coinbase", "crypto"), 0.2),
    _m("western_union", "Western Union", "WU *WESTERN UNION", "4829", 5000, 50000, "ecommerce",
       ("western union",), 0.1),
)

MERCHANTS_BY_KEY: dict[str, Merchant] = {m.key: m for m in MERCHANTS}

# Processor / platform prefixes seen before the merchant's own name.
_PROCESSORS: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(p, re.I), text)
    for p, text in [
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
    ]
)

# Descriptor families that deserve their own explanation.
_SPECIAL: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(p, re.I), text)
    for p, text in [
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
    ]
)

_STORE_NO = re.compile(r"(?:#\s?(\d{2,})|\s(\d{3,}))\*?$")


def _store_note(descriptor: str) -> str:
    m = _STORE_NO.search(descriptor.strip())
    if not m:
        return ""
    return f"; the number {m.group(1) or m.group(2)} identifies the store or terminal"


def _template_regex(template: str, picks: tuple[str, ...]) -> re.Pattern:
    out = []
    template = " ".join(template.split())  # find_merchant compares whitespace-normalised text
    for part in re.split(r"(\{n\d+\}|\{r\d+\}|\{pick\})", template):
        if m := re.fullmatch(r"\{n(\d+)\}", part):
            out.append(rf"\d{{{m.group(1)}}}")
        elif m := re.fullmatch(r"\{r(\d+)\}", part):
            out.append(rf"[A-Z0-9]{{{m.group(1)}}}")
        elif part == "{pick}":
            out.append(r"[\w .'&-]+")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out), re.I)


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern, str, Merchant], ...]:
    rows = []
    for m in MERCHANTS:
        for t in m.descriptors:
            literal = re.split(r"\{", t, maxsplit=1)[0]
            rows.append((_template_regex(t, m.picks), literal, m))
    return tuple(rows)


def find_merchant(descriptor: str) -> Merchant | None:
    """The directory entry a descriptor comes from: an exact template match first, else the
    longest literal prefix (acquirers pad and truncate the tail: "SHELL OIL 57444213301")."""
    d = " ".join(descriptor.split())
    rows = _compiled()
    for rx, _, m in rows:
        if rx.fullmatch(d):
            return m
    best: tuple[int, Merchant] | None = None
    for _, literal, m in rows:
        lit = literal.strip()
        if len(lit) >= 4 and d.upper().startswith(lit.upper()) and (best is None or len(lit) > best[0]):
            best = (len(lit), m)
    return best[1] if best else None


def render_descriptor(merchant: Merchant, rng: random.Random) -> str:
    """A statement descriptor for ``merchant`` (store numbers and order refs drawn from ``rng``)."""
    template = rng.choice(merchant.descriptors)
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

    def fill(m: re.Match) -> str:
        kind, n = m.group(1), m.group(2)
        if kind == "pick":
            return rng.choice(merchant.picks)
        if kind == "n":
            return "".join(rng.choice("0123456789") for _ in range(int(n)))
        return "".join(rng.choice(alphabet) for _ in range(int(n)))

    return re.sub(r"\{(n|r|pick)(\d*)\}", fill, template)


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


# --- matching what the customer says to what the statement says ---------------------------------

# Abbreviations acquirers use in descriptors.
_ABBREVIATIONS: dict[str, str] = {
    "amzn": "amazon",
    "mktp": "marketplace",
    "wm": "walmart",
    "wholefds": "whole foods",
    "whse": "warehouse",
    "southwes": "southwest",
    "sbux": "starbucks",
    "wrls": "wireless",
    "comm": "communications",
    "mcdonald": "mcdonalds",
}
_PROCESSOR_TOKENS = {"sq", "tst", "pp", "paypal", "sp", "dd", "in", "sqsp", "eb", "fs", "wpy", "cko", "wu"}
# Words that carry no merchant identity in a query or a descriptor.
_STOP = {
    "the", "a", "an", "at", "from", "to", "my", "me", "i", "on", "in", "of", "for", "with", "that", "this",
    "charge", "charges", "payment", "payments", "purchase", "transaction", "order", "bill", "billing",
    "card", "com", "www", "inc", "llc", "us", "usa", "one", "thing", "it", "was", "store", "subscr", "subs",
}
# Category-ish words: a mismatch on these should cost little ("shell gas", "blue bottle cafe").
_SOFT = {
    "gas", "station", "fuel", "coffee", "cafe", "shop", "restaurant", "food", "delivery", "ride", "online",
    "app", "subscription", "supermarket", "grocery", "groceries", "market", "pharmacy", "airline",
    "airlines", "flight", "hotel", "membership",
}


def _is_reference(tok: str) -> bool:
    """Store numbers and order references ("2k4", "1a2b3c", "00123") say nothing about the
    merchant; a name that merely contains digits ("xinghua88") does."""
    digits = sum(ch.isdigit() for ch in tok)
    return digits > 0 and (len(tok) <= 6 or digits * 2 >= len(tok))


def _tokens(text: str, *, expand: bool = True, drop_processors: bool = False) -> list[str]:
    text = text.lower().replace("&", " and ").replace("'", "").replace("’", "")
    raw = re.findall(r"[a-z0-9]+", text)
    if drop_processors and "*" in text:
        head = text.split("*", 1)[0].strip()
        if head in _PROCESSOR_TOKENS:
            raw = raw[len(re.findall(r"[a-z0-9]+", head)):]
    out: list[str] = []
    for tok in raw:
        if tok in _STOP or is_ordinary_word(tok) or _is_reference(tok):
            continue
        if expand and tok in _ABBREVIATIONS:
            out.extend(_ABBREVIATIONS[tok].split())
        else:
            out.append(tok)
    return out


def _tok_sim(q: str, c: str) -> float:
    if q == c:
        return 1.0
    if len(q) >= 3 and c.startswith(q):
        return 0.85 + 0.15 * len(q) / len(c)
    r = SequenceMatcher(None, q, c).ratio()
    # A weak resemblance between words is coincidence, not a typo.
    return r if r >= 0.8 else r * 0.6


def _score(q: list[str], c: list[str]) -> float:
    if not q or not c:
        return 0.0
    joined_q, joined_c = "".join(q), "".join(c)
    whole = SequenceMatcher(None, joined_q, joined_c).ratio()
    whole = whole if whole >= 0.85 else 0.0  # "bestbuy" == "best buy", "ubereats" == "uber eats"
    weights = [0.25 if t in _SOFT else 1.0 for t in q]
    bests = [max(_tok_sim(t, ct) for ct in c) for t in q]
    coverage = sum(w * b for w, b in zip(weights, bests)) / sum(weights)
    used = sum(1 for ct in c if max(_tok_sim(t, ct) for t in q) >= 0.8)
    precision = used / len(c)
    return max(whole, coverage * (0.85 + 0.15 * precision))


def merchant_match_score(query: str, txn_descriptor: str, txn_merchant_name: str) -> float:
    """How well what the customer said names this transaction's merchant, in [0, 1].

    Descriptor-aware: abbreviations are expanded ("AMZN MKTP" -> amazon marketplace), processor
    prefixes and order references are ignored, the directory's aliases count ("walmart" for
    "WM SUPERCENTER #1234"), and small typos are forgiven ("starbuks"). 0.6 and above is a match.
    """
    q = _tokens(query or "")
    if not q:
        return 0.0
    candidates: list[tuple[list[str], float]] = [
        (_tokens(txn_merchant_name or ""), 1.0),
        (_tokens(txn_descriptor or "", drop_processors=True), 1.0),
        # The processor itself is a weaker clue ("the paypal one").
        (_tokens(txn_descriptor or ""), 0.9),
    ]
    merchant = find_merchant(txn_descriptor or "")
    if merchant is not None:
        candidates.append((_tokens(merchant.name), 1.0))
        candidates.extend((_tokens(a), 1.0) for a in merchant.aliases)
    best = max(_score(q, c) * w for c, w in candidates)
    return round(min(1.0, max(0.0, best)), 4)
