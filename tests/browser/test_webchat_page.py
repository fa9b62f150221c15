"""The local web chat used the way a customer uses it: headless Chromium against `chalice local`.

Why in a browser: every defect these tests guard (debug text, a button's value shown as the
customer's words, buttons below the fold or still clickable, a previous customer's code left on
screen, sideways scrolling on a phone, controls a keyboard cannot reach) lives in the page's
HTML, CSS and script, where a JSON-level test cannot see it.
"""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.support import axe_violations, horizontal_overflow, screenshot

DEBUG_TEXT = re.compile(r"ElicitSlot|ElicitIntent|InProgress|Fulfilled|ExplainHold")


def _settled(page):
    """Wait until the assistant has answered (the log drops aria-busy once the reply is shown)."""
    page.wait_for_selector('#log[aria-busy="false"]')


def _say(page, text: str):
    page.fill("#text", text)
    page.press("#text", "Enter")
    _settled(page)


def _bubbles(page, who: str) -> list[str]:
    return page.locator(f".msg.{who}:not(.typing) .text").all_inner_texts()


def _newest_choices(page):
    """The latest group of reply buttons, pinned by index (a plain `.last` would follow later groups)."""
    groups = page.locator(".choices")
    return groups.nth(groups.count() - 1).locator("button")


HOLD_QUESTION = "Was it you?"


def _as(page, customer: str):
    """Sign in as ``customer`` with nothing left to be told: a payment the assistant raises when the
    chat opens (the page's opening turn) is asked once per server, so it is drained with New chat and
    every test starts from the plain greeting whatever ran before it."""
    page.select_option("#customer", customer)
    _settled(page)
    for _ in range(5):
        if not any(HOLD_QUESTION in b for b in _bubbles(page, "bot")):
            return
        page.click("#reset")
        _settled(page)
    raise AssertionError("the chat kept opening with a held payment")


def test_the_assistant_greets_first_and_shows_no_debug_text(open_page):
    """Given a customer opening the chat, When the page loads, Then the assistant has already said
    hello (in the catalogue's words) and no dialog-state text is visible."""
    page = open_page("/chat")
    greeting = _bubbles(page, "bot")
    assert len(greeting) == 1 and greeting[0].startswith("Hi, I'm the Dispute Assistant")
    assert "{{" not in page.content()
    assert not DEBUG_TEXT.search(page.inner_text("body"))


def test_alice_is_told_about_her_held_best_buy_payment_when_she_opens_the_chat(open_fresh_page):
    """Given demo-alice, whose Best Buy payment is held, When she opens the chat signed in and types
    nothing, Then after the greeting the assistant asks about that payment with yes/no buttons, and
    tapping one answers it in the same conversation."""
    page = open_fresh_page("/chat")
    page.select_option("#customer", "demo-alice")
    _settled(page)
    bot = _bubbles(page, "bot")
    assert bot[0].startswith("Hi, I'm the Dispute Assistant")
    assert "Best Buy" in bot[1] and bot[1].endswith(HOLD_QUESTION)
    assert _bubbles(page, "user") == []  # she said nothing
    buttons = _newest_choices(page)
    assert buttons.all_inner_texts()[:2] == ["Yes, it was me", "No, it wasn't me"]
    assert not DEBUG_TEXT.search(page.inner_text("#log"))
    buttons.nth(1).click()
    _settled(page)
    assert _bubbles(page, "user") == ["No, it wasn't me"]
    assert len(_bubbles(page, "bot")) > 2 and not page.problems


def test_an_anonymous_visitor_opens_to_the_greeting_alone(open_fresh_page):
    """Given an anonymous visitor, When the page loads, Then only the greeting is shown (no opening turn)."""
    page = open_fresh_page("/chat")
    _settled(page)
    assert len(_bubbles(page, "bot")) == 1 and not page.problems


def test_alice_asks_about_a_decline_and_picks_a_payment(open_page):
    """Given demo-alice signed in, When she asks why her card was declined and picks a payment with a
    button, Then her bubble shows the button's label (never its value), the buttons she answered are
    disabled, and the new buttons are scrolled into view."""
    page = open_page("/chat")
    _as(page, "demo-alice")
    _say(page, "why was my card declined")
    assert "stopped" in " ".join(_bubbles(page, "bot"))
    first = _newest_choices(page)
    labels = first.all_inner_texts()
    assert len(labels) >= 2 and all("$" in label for label in labels)

    page.locator(".choices button", has_text="Shell").click()
    _settled(page)

    assert _bubbles(page, "user")[-1] == [label for label in labels if "Shell" in label][0]
    assert not any(re.fullmatch(r"\d+|[a-z_]+", text) for text in _bubbles(page, "user"))
    for i in range(first.count()):
        assert first.nth(i).is_disabled()
    newest = _newest_choices(page)
    assert newest.count() >= 1 and newest.first.is_enabled()
    assert newest.first.evaluate("b => { const r = b.getBoundingClientRect(), l = b.closest('#log').getBoundingClientRect();"
                                 " return r.top >= l.top && r.bottom <= l.bottom && r.bottom <= innerHeight; }")
    assert page.evaluate("document.activeElement.id") == "text"
    assert not page.problems


def test_typing_instead_of_clicking_retires_the_offered_buttons(open_page):
    """Given offered reply buttons, When the customer types an answer instead, Then the old buttons
    are disabled: a stale button must not answer a question that is no longer asked."""
    page = open_page("/chat")
    _as(page, "demo-alice")
    _say(page, "why was my card declined")
    offered = _newest_choices(page)
    assert offered.count() >= 2
    _say(page, "2")
    assert all(offered.nth(i).is_disabled() for i in range(offered.count()))


def test_switching_identity_clears_the_one_time_code(open_page):
    """Given an anonymous visitor verified as Alice up to the one-time code, When the identity is
    switched to demo-bob, Then Alice's code and conversation are gone from the screen."""
    page = open_page("/chat")
    for text in ["check my dispute", "4242", "12 April 1988"]:
        _say(page, text)
    code = page.inner_text("#otp")
    assert re.fullmatch(r"\d{6}", code), code

    _as(page, "demo-bob")

    assert code not in page.inner_text("body")
    assert page.inner_text("#otp") == "No code sent yet"
    assert len(_bubbles(page, "bot")) == 1 and not _bubbles(page, "user")


def test_the_developer_toggle_shows_dialog_state(open_page):
    """Given a conversation, When a developer ticks the toggle (or opens ?debug=1), Then the dialog
    state appears under the replies; unticked, customers never see it."""
    page = open_page("/chat")
    _as(page, "demo-alice")
    _say(page, "why was my card declined")
    assert not DEBUG_TEXT.search(page.inner_text("#log"))

    page.check("#debug")
    assert "ExplainHold · ElicitSlot HoldChoice · InProgress" in page.inner_text("#log")
    page.uncheck("#debug")
    assert not DEBUG_TEXT.search(page.inner_text("#log"))

    dev = open_page("/chat?debug=1")
    assert dev.is_checked("#debug")
    _say(dev, "why was my card declined")
    assert "ElicitSlot" in dev.inner_text("#log")


def test_keyboard_only(open_page):
    """Given a keyboard user, When they Tab to the message box, type and press Enter, then Tab back to
    a reply button and press Enter, and Tab to a suggestion and press Enter, Then each works, the
    focus is always visible, and nothing needed a mouse."""
    page = open_page("/chat")
    _as(page, "demo-alice")
    page.evaluate("document.activeElement.blur()")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "text":
            break
    assert page.evaluate("document.activeElement.id") == "text"
    page.keyboard.type("why was my card declined")
    page.keyboard.press("Enter")
    _settled(page)
    assert page.locator(".choices button:enabled").count() >= 2

    for _ in range(8):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.matches('.choices button')"):
            break
    button = page.evaluate("document.activeElement.textContent")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    _settled(page)
    assert _bubbles(page, "user")[-1] == button
    assert page.evaluate("document.activeElement.id") == "text"

    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('.tries') !== null"):
            break
    suggestion = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    _settled(page)
    assert _bubbles(page, "user")[-1] == suggestion


def test_phone_width_stacks_without_sideways_scrolling(open_page):
    """Given a 390 px wide phone, When a conversation with buttons is on screen, Then the page does
    not scroll sideways and the side panel sits below the chat at full width instead of being cut off."""
    page = open_page("/chat", viewport=PHONE)
    _as(page, "demo-alice")
    _say(page, "why was my card declined")
    assert horizontal_overflow(page) <= 0
    chat, side = page.locator("main").bounding_box(), page.locator("aside").bounding_box()
    assert side["y"] >= chat["y"] + chat["height"]
    assert side["x"] >= 0 and side["x"] + side["width"] <= PHONE["width"]
    assert page.locator(".choices button").first.is_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_violations(open_page, viewport):
    """Given the page on open and mid-conversation (bubbles, answered and live buttons, the code
    panel), When axe-core checks it in the page, Then it reports no violations at all."""
    page = open_page("/chat", viewport=viewport)
    assert axe_violations(page) == []
    _as(page, "demo-alice")
    _say(page, "why was my card declined")
    page.locator(".choices button").first.click()
    _settled(page)
    page.check("#debug")
    assert axe_violations(page) == []


@pytest.mark.parametrize("name,viewport", [("webchat-desktop", DESKTOP), ("webchat-phone", PHONE)])
def test_screenshots(open_page, tmp_path, name, viewport):
    """Given Alice mid-conversation, When the page is photographed at desktop and phone width, Then
    the pictures exist (`make screenshots` refreshes docs/screenshots/ for people to look at)."""
    page = open_page("/chat", viewport=viewport)
    _as(page, "demo-alice")
    _say(page, "why was my card declined")
    page.locator(".choices button", has_text="Shell").click()
    _settled(page)
    page.locator("#text").focus()
    path = screenshot(page, name, tmp_path)
    assert path.stat().st_size > 10_000
