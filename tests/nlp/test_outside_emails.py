"""The outside tester's 55 e-mails (``tests/fixtures/outside_emails``, expectations written before
the product saw them; session 4's fixes were made against them, so they guard against regressions,
they do not measure generalisation)."""
from __future__ import annotations

from training.outside_eval import evaluate


def test_outside_emails_keep_their_scope_category_and_secrets():
    """Given 29 card disputes, 10 letters about other products and 16 non-complaints, raw MIME
    When each is triaged
    Then at least 95% get the expected scope, at least 25 of the 27 disputes their category, at
    least 9 of the 10 other products their name, no secret the tester listed is left in the
    redacted text or the evidence, and at most one must-keep fact is missing (the case id inside a
    bounce's attached message, which is not read)."""
    r = evaluate()
    assert r["outside_emails"] == 55
    assert r["outside_scope_pct"] >= 95.0, r["outside_scope_misses"]
    assert r["outside_category_cases"] == 27 and r["outside_category_right"] >= 25
    assert r["outside_product_right"] >= 9
    assert r["outside_must_redact_leaked"] == 0, r["outside_leaks"]
    assert r["outside_must_keep_dropped"] <= 1, r["outside_dropped"]
