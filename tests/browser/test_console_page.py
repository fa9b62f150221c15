"""The agent console, used the way an agent uses it: sign in with a token, open the ticket a
customer's chat just raised, read the chat that led to it, claim it, add a note, resolve it; the customer's email is in the
outbox, every page passes axe, and the screenshot in the README is taken here."""
from __future__ import annotations

import json
import urllib.request

from tests.browser.conftest import AGENT_TOKENS
from tests.browser.support import axe_violations, screenshot

TOKEN = next(iter(AGENT_TOKENS))


def chat(live_server, text: str, customer: str, session_id: str | None = None) -> dict:
    req = urllib.request.Request(live_server.at("/api/chat"), method="POST", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"text": text, "customer": customer, "session_id": session_id}).encode())
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def test_given_an_escalation_when_an_agent_works_it_in_the_console_then_the_customer_is_told_screenshots(
        live_server, open_page, tmp_path):
    # Given Bob looks up a payment, then asks the assistant for a person in the same chat
    first = chat(live_server, "find the amazon payment", "demo-bob")
    said = chat(live_server, "talk to an agent", "demo-bob", first["session_id"])
    ref = next(w.strip(".;,") for w in json.dumps(said["turn"]).replace("\"", " ").split() if w.startswith("TKT-"))

    # When an agent signs in: a wrong token is refused, the right one shows the queue
    page = open_page("/console")
    assert axe_violations(page) == []
    page.get_by_label("Agent token").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert "not valid" in page.get_by_role("alert").inner_text()
    page.get_by_label("Agent token").fill(TOKEN)
    page.keyboard.press("Enter")
    page.get_by_role("link", name=ref).wait_for()
    assert axe_violations(page) == []

    # ... opens the ticket and reads the whole chat, both sides, oldest first, with times
    page.get_by_role("link", name=ref).click()
    lines = page.get_by_role("list", name="Messages, oldest first").get_by_role("listitem").all_inner_texts()
    assert lines[0].startswith("Customer") and "find the amazon payment" in lines[0], lines
    assert any(line.startswith("Assistant") for line in lines[1:-1]), lines
    assert lines[-1].startswith("Customer") and "talk to an agent" in lines[-1] and " UTC" in lines[-1], lines

    # ... and claims, notes and resolves the ticket
    page.get_by_role("button", name="Claim ticket").click()
    assert "Ticket claimed." in page.get_by_role("status").inner_text()
    page.get_by_label("Add a note").fill("Called Bob; he recognises the payment now.")
    page.get_by_role("button", name="Add note").click()
    page.get_by_label("Outcome").select_option("helped")
    page.get_by_label("Message to the customer").fill("We checked the Amazon payment with you: it was your order.")
    assert axe_violations(page) == []
    screenshot(page, "console", tmp_path, full_page=True)
    page.get_by_role("button", name="Resolve and tell the customer").click()

    # Then the ticket is resolved, the note is kept and the customer's email is in the outbox
    assert "Ticket resolved." in page.get_by_role("status").inner_text()
    assert "he recognises the payment" in page.content()
    emails = list((live_server.data_dir / "outbox").glob(f"resolution-{ref}.eml"))
    assert len(emails) == 1 and "it was your order" in emails[0].read_text()
    assert axe_violations(page) == []
    # the one refused sign-in is the only failed request the browser saw
    assert [p for p in page.problems if "401" not in p] == [] and len(page.problems) <= 1, page.problems
