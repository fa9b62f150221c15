"""Does the served pipeline find the same spans as the spaCy reference, on real texts?

Runs both engines built from the same ``nlp/pipeline.cfg`` on banking77 (train), the CFPB
narratives, the sample emails (their triage text and full decoded body) and the red-team PII
fixture, and lists every text where the PII spans (type + character offsets) or the merchant
entities (text, offsets, directory key) differ. Equal PII spans mean equal redactions: ``nlp.redact``
adds only deterministic steps (``merge_spans``, the outbound guard) on top of the pipeline.

Components listed as ``beyond_reference`` in the config (name rules the reference never had, on
purpose: signatures, other languages' sign-offs, relatives) are left out of the parity check and
reported apart as *deliberate additions*: what they add or take back, never a failure.

    python -m training.spacy_parity              # every text (~14k; about a minute on a quiet core)
    python -m training.spacy_parity --sample 400 # a seeded sample per source
    python -m training.spacy_parity --sample 400 --additions   # and each deliberate addition

Deliberate departures from the reference are listed apart and do not fail the check; each is
recognised by its exact shape, so a real disagreement next to one still counts:
- ``hyphenated_name``: the served name matcher takes a hyphenated name whole ("Mary-Jane Watson",
  "Jane Smith-Jones"), where spaCy's token Matcher stops at the hyphen and left "[NAME]-Jane Watson".
  Every span only the reference found is a NAME inside a NAME only the served engine found, and
  each of those contains a hyphen-joined name.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nlp.email_parse import parse_email
from nlp.pipeline import build_pipeline, read_config

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
REDTEAM = ROOT / "tests" / "fixtures" / "redteam_pii.json"


def corpus(sample: int | None = None, seed: int = 14) -> list[tuple[str, str]]:
    """(source#row, text) for every source found; ``sample`` keeps a seeded sample per source."""
    sources: dict[str, list[str]] = {}
    b77 = DATA / "banking77" / "train.csv"
    if b77.exists():
        with b77.open(encoding="utf-8", newline="") as f:
            sources["banking77"] = [r["text"] for r in csv.DictReader(f)]
    for path in sorted((DATA / "cfpb").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            sources[path.stem] = [r["Consumer complaint narrative"] for r in csv.DictReader(f)
                                  if r.get("Consumer complaint narrative")]
    mails: list[str] = []
    for path in sorted((DATA / "emails").glob("*.eml")):
        parsed = parse_email(path.read_bytes())
        mails += [parsed.triage_text(), parsed.full_body]
    sources["emails"] = [m for m in mails if m.strip()]
    if REDTEAM.exists():
        sources["redteam"] = [c["text"] for c in json.loads(REDTEAM.read_text(encoding="utf-8"))["cases"]]
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for name, texts in sources.items():
        rows = list(enumerate(texts))
        if sample is not None and len(rows) > sample:
            rows = sorted(rng.sample(rows, sample))
        out += [(f"{name}#{i}", t) for i, t in rows]
    return out


@dataclass
class Parity:
    texts: int = 0
    pii_spans: int = 0
    merchant_ents: int = 0
    ambiguous_keys: int = 0  # merchant phrases of several directory entries: see ``phrase_keys``
    differences: list[dict] = field(default_factory=list)
    deliberate: list[dict] = field(default_factory=list)  # each with its "reason" (module docstring)
    # What the ``beyond_reference`` components (rules the reference never had, on purpose) change
    # in the served spans: reported, not failed. Parity itself is checked without them.
    additions: list[dict] = field(default_factory=list)
    beyond_reference: list[str] = field(default_factory=list)


_HYPHEN_JOIN = re.compile(r"[^\W\d_][-\u2010\u2011\u2013][^\W\d_]")


def deliberate_reason(text: str, kind: str, reference_only: list[tuple], served_only: list[tuple]) -> str | None:
    """Why a difference is one we chose (see the module docstring), or None when it is a real one."""
    if kind != "pii" or not served_only or any(s[2] != "NAME" for s in reference_only + served_only):
        return None
    if not all(_HYPHEN_JOIN.search(text[s:e]) for s, e, _ in served_only):
        return None
    if all(any(s <= r_start and r_end <= e for s, e, _ in served_only) for r_start, r_end, _ in reference_only):
        return "hyphenated_name"
    return None


def phrase_keys() -> dict[str, set[str]]:
    """Lower-cased merchant phrase -> every key it carries ("" for the built-in list).

    A phrase of several entries ("Google": google_play, google_storage, google_youtube; "PayPal":
    the built-in list and paypal_seller) is a tie the spaCy EntityRuler breaks by the iteration
    order of a set of match hashes: the same phrase gets different keys at different offsets of
    one text. The served ruler takes the first directory entry (a directory key before none), so
    for these the parity is: same span, and the served key is one the phrase carries."""
    from nlp.components import catalogue_phrases
    from nlp.patterns import KNOWN_MERCHANTS

    keys: dict[str, set[str]] = {}
    for key, phrase in [("", m) for m in KNOWN_MERCHANTS] + catalogue_phrases():
        keys.setdefault(phrase.lower(), set()).add(key)
    return keys


def compare(texts: list[tuple[str, str]]) -> Parity:
    """Both engines on every text; each difference as {id, kind, reference_only, served_only}."""
    from training.spacy_reference import build_reference, reference_ents, reference_pii_spans

    beyond = read_config()["pipeline"]["beyond_reference"]
    reference, served, full = build_reference(), build_pipeline(exclude=beyond), build_pipeline()
    keys = phrase_keys()
    result = Parity(beyond_reference=list(beyond))
    for ident, text in texts:
        result.texts += 1
        ref_pii = {(s.start, s.end, s.type) for s in reference_pii_spans(reference, text)}
        new_pii = {(s.start, s.end, s.type) for s in served(text, assigns={"pii_spans"}).pii_spans}
        if beyond:
            all_pii = {(s.start, s.end, s.type) for s in full(text, assigns={"pii_spans"}).pii_spans}
            if all_pii != new_pii:
                result.additions.append({"id": ident, "kind": "pii", "added": sorted(all_pii - new_pii),
                                         "removed": sorted(new_pii - all_pii)})
        ref_ents = set(reference_ents(reference, text))
        new_ents = set()
        for e in served(text, assigns={"ents"}).ents:
            choices = keys.get(" ".join(e.text.lower().split()), {e.ent_id})
            if len(choices) > 1 and e.ent_id in choices:
                result.ambiguous_keys += 1
                match = [r for r in ref_ents if r[:3] == (e.text, e.start, e.end)]
                new_ents.add(match[0] if match else (e.text, e.start, e.end, e.ent_id))
            else:
                new_ents.add((e.text, e.start, e.end, e.ent_id))
        result.pii_spans += len(ref_pii)
        result.merchant_ents += len(ref_ents)
        for kind, ref, new in (("pii", ref_pii, new_pii), ("merchant", ref_ents, new_ents)):
            if ref != new:
                diff = {"id": ident, "kind": kind, "reference_only": sorted(ref - new), "served_only": sorted(new - ref)}
                reason = deliberate_reason(text, kind, diff["reference_only"], diff["served_only"])
                if reason is None:
                    result.differences.append(diff)
                else:
                    result.deliberate.append({**diff, "reason": reason})
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=None, help="texts per source (seeded); default all")
    ap.add_argument("--additions", action="store_true", help="list each deliberate addition with its text")
    args = ap.parse_args(argv)
    texts = corpus(args.sample)
    result = compare(texts)
    for d in result.differences:
        print(json.dumps(d, ensure_ascii=False))
    if args.additions:
        for d in result.additions:
            print(json.dumps(dict(d, text=_excerpts(texts, d)), ensure_ascii=False))
    reasons: dict[str, int] = {}
    for d in result.deliberate:
        reasons[d["reason"]] = reasons.get(d["reason"], 0) + 1
    added = sum(len(d["added"]) for d in result.additions)
    removed = sum(len(d["removed"]) for d in result.additions)
    print(f"{result.texts} texts, {result.pii_spans} PII spans and {result.merchant_ents} merchant entities "
          f"in the reference ({result.ambiguous_keys} of them phrases of several directory entries); "
          f"{len(result.differences)} differences; deliberate departures (not failures): "
          + (", ".join(f"{n} {r}" for r, n in sorted(reasons.items())) or "none"))
    print(f"deliberate additions ({', '.join(result.beyond_reference) or 'none'}): {added} spans added and "
          f"{removed} taken back in {len(result.additions)} texts (not parity failures; --additions lists them)")
    return 0 if not result.differences else 1


def _excerpts(texts: list[tuple[str, str]], diff: dict) -> list[str]:
    """The text of each added or removed span, for a reviewer (run on your own machine only: it
    prints PII the rules found)."""
    text = dict(texts)[diff["id"]]
    return [f"{t}:{text[s:e]!r}" for s, e, t in diff["added"] + diff["removed"]]


if __name__ == "__main__":
    sys.exit(main())
