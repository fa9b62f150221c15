"""Score e-mail triage on the outside tester's e-mails (``python -m training.outside_eval``; part of
``make evaluate`` and of ``bench_longtext`` in ``make bench``).

``tests/fixtures/outside_emails/`` holds 55 raw e-mails an outside tester wrote in session 4, with
their expectations in ``expected.json`` written before the product saw them: 29 card or account
disputes (``o*``), 10 letters about other products (``n*``) and 16 non-complaints (``x*``). The
fixes of that session were then made against them, so they are no longer a blind test: they are a
regression set of real-looking mail (Outlook, Gmail, Apple Mail, mobile, HTML-only, quoted-printable,
cp1252, GB2312; PII written out in words).

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
TODAY = date(2026, 12, 6)
SCOPE = {"ours": "ours", "other_product": "not_ours", "not_a_complaint": "not_a_complaint"}
FAMILY = {"atm_cash_problem": "atm", "pending_charge": "pending"}  # category -> the tester's family names
PRODUCT = {"payday_loan": "personal_loan"}  # the tester's product names -> the model's classes


def evaluate(folder: Path = FIXTURES) -> dict:
    from nlp.triage import triage_email

    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    scope_ok, category, product, leaks, dropped, misses = 0, [0, 0], [0, 0], [], [], []
    for name, want in sorted(expected.items()):
        r = triage_email((folder / name).read_bytes(), id=name, today=TODAY)
        got = SCOPE.get(r.scope or "", r.scope)
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
    return {"outside_emails": n, "outside_scope_pct": round(100.0 * scope_ok / max(1, n), 1),
            "outside_category_right": category[0], "outside_category_cases": category[1],
            "outside_product_right": product[0], "outside_product_cases": product[1],
            "outside_must_redact_leaked": len(leaks), "outside_must_keep_dropped": len(dropped),
            "outside_scope_misses": misses, "outside_leaks": leaks, "outside_dropped": dropped}


if __name__ == "__main__":
    print(json.dumps(evaluate(Path(sys.argv[1]) if len(sys.argv) > 1 else FIXTURES), indent=2))
