"""Score e-mail triage on the outside tester's e-mails (``python -m training.outside_eval``; part of
``make evaluate`` and of ``bench_longtext`` in ``make bench``).

``tests/fixtures/outside_emails/`` holds 55 raw e-mails an outside tester wrote in session 4, with
their expectations in ``expected.json`` written before the product saw them: 29 card or account
disputes (``o*``), 10 letters about other products (``n*``) and 16 non-complaints (``x*``). The
fixes of that session were then made against them, so they are no longer a blind test: they are a
regression set of real-looking mail (Outlook, Gmail, Apple Mail, mobile, HTML-only, quoted-printable,
cp1252, GB2312; PII written out in words).

``tests/fixtures/probe_emails/`` holds 40 more, written blind by a second outside tester in session 5
for the scope decision (20 card, account and transfer complaints, among them short notes that never
say "my card", letters about two products, Spanish; 12 other products full of card words; 8
non-complaints). Scope was right on 31 of 40 when they arrived; that session's fixes were made
against them too, so they are a second regression set (``--probe``; keys ``probe_*``).

Measured here, on the triage alone (the deployment's routing is tested in ``tests/ingest``):
- scope, three ways (ours / another product / not a complaint);
- the product named for another product's letter, the dispute category of ours;
- must-redact items (names, cards, codes, SSNs, phones …) still verbatim in the redacted text or
  the evidence, and must-keep facts (amounts, dates, ids) missing from it.
"""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "outside_emails"
PROBE = ROOT / "tests" / "fixtures" / "probe_emails"
TODAY = date(2026, 12, 6)
SCOPE = {"ours": "ours", "other_product": "not_ours", "not_a_complaint": "not_a_complaint"}
FAMILY = {"atm_cash_problem": "atm", "pending_charge": "pending"}  # category -> the tester's family names
PRODUCT = {"payday_loan": "personal_loan", "payday loan": "personal_loan", "personal loan": "personal_loan",
           "credit report": "credit_reporting", "debt collection": "debt_collection", "student loan": "student_loan",
           "vehicle loan": "vehicle_loan"}  # the testers' product names -> the model's classes


def evaluate(folder: Path = FIXTURES, prefix: str = "outside") -> dict:
    from nlp.triage import triage_email

    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    scope_ok, category, product, leaks, dropped, misses = 0, [0, 0], [0, 0], [], [], []
    for name, want in sorted(expected.items()):
        r = triage_email((folder / name).read_bytes(), id=name, today=TODAY)
        got = SCOPE.get(r.scope or "", r.scope)
        want = {**want, "scope": SCOPE.get(want["scope"], want["scope"])}  # "other_product" is "not_ours"
        scope_ok += got == want["scope"]
        if got != want["scope"]:
            misses.append(f"{name}: {want['scope']} -> {got}")
        if want["scope"] == "ours" and want.get("category"):
            category[1] += 1
            category[0] += FAMILY.get(r.category, r.category) in want["category"]
        if want["scope"] == "not_ours":
            product[1] += 1
            product[0] += r.product == PRODUCT.get(want["product"], want["product"])
        # whitespace normalised: a mail's hard line wraps split "November\n30" and names alike
        text = " ".join(r.redacted_text.split())
        shown = " ".join((r.redacted_text + " " + " ".join(str(e.get("sentence", "")) for e in r.evidence or [])).split())
        leaks += [f"{name}: {(want.get('redact_kinds') or {}).get(s, 'secret')}" for s in want.get("must_redact", [])
                  if " ".join(s.split()) in shown]
        dropped += [f"{name}: {k}" for k in want.get("must_keep", []) if " ".join(k.split()) not in text]
    n = len(expected)
    out = {"emails": n, "scope_pct": round(100.0 * scope_ok / max(1, n), 1),
           "category_right": category[0], "category_cases": category[1],
           "product_right": product[0], "product_cases": product[1],
           "must_redact_leaked": len(leaks), "must_keep_dropped": len(dropped),
           "scope_misses": misses, "leaks": leaks, "dropped": dropped}
    return {f"{prefix}_{k}": v for k, v in out.items()}


if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["--probe"]:
        print(json.dumps(evaluate(PROBE, "probe"), indent=2))
    else:
        print(json.dumps(evaluate(Path(args[0]) if args else FIXTURES), indent=2))
