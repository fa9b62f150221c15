"""A rule tokenizer with character offsets: the first stage of the PII / merchant pipeline.

Why not spaCy: the pipeline used spaCy only to split text into tokens, and `import spacy` brings its
whole CLI stack (~90 MB RSS, seconds of a cold start) into every Lambda that redacts. The splitting
itself is a small algorithm over data: split on whitespace (a single ' ' belongs to the token before
it, any other run of whitespace is a token of its own, so "Regards,\\nJohn" keeps its line break),
then peel prefixes and suffixes off each chunk until a special case ("I'm", "Mr.") or nothing is
left, then split the core at infixes ("Mary-Jane", "name:John") unless it is a URL. The rules are
spaCy's English defaults, exported as data (``tokenizer_rules.json``, ``python -m
training.tokenizer_rules``), so the name matcher and the merchant ruler see the tokens the rules of
``nlp/pipeline.cfg`` were written against; ``tests/nlp/test_spacy_parity.py`` keeps it honest.
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

__all__ = ["Token", "RuleSet", "Tokenizer", "RULES_PATH", "load_tokenizer"]

RULES_PATH = Path(__file__).with_name("tokenizer_rules.json")
_CHUNK_RE = re.compile(r"\s+|\S+")
_CACHE_LIMIT = 20_000


class Token:
    """One token: its text, its character offsets in the input and the flags the matchers read."""

    __slots__ = ("text", "start", "end", "i", "lower")

    def __init__(self, text: str, start: int, i: int):
        self.text = text
        self.start = start
        self.end = start + len(text)
        self.i = i
        self.lower = text.lower()

    @property
    def is_space(self) -> bool:
        return self.text.isspace()

    @property
    def is_punct(self) -> bool:
        """Every character is Unicode punctuation (category P*), as spaCy's IS_PUNCT."""
        return all(unicodedata.category(ch).startswith("P") for ch in self.text)

    def __repr__(self) -> str:
        return f"Token({self.text!r}, {self.start})"


class RuleSet:
    """The compiled prefix / suffix / infix / URL rules, with the character classes filled in.

    The rules name their big classes (letters, lower- and upper-case letters, symbols) as
    ``@@NAME@@``; ``classes`` gives their contents (all of Unicode's, or the ASCII members only)."""

    def __init__(self, rules: dict, classes: dict[str, str]):
        def fill(pattern: str) -> str:
            for name, content in classes.items():
                pattern = pattern.replace(f"@@{name}@@", content)
            return pattern

        self._prefix = re.compile("|".join("^" + fill(p) for p in rules["prefixes"])).search
        self._suffix = re.compile("|".join(fill(p) + "$" for p in rules["suffixes"])).search
        self.infix = re.compile("|".join(fill(p) for p in rules["infixes"])).finditer
        self.url = re.compile(fill(rules["url_match"])).match

    def prefix_len(self, s: str) -> int:
        m = self._prefix(s)
        return m.end() - m.start() if m else 0

    def suffix_len(self, s: str) -> int:
        m = self._suffix(s)
        return m.end() - m.start() if m else 0


class Tokenizer:
    """Splits text into ``Token``s; ``pieces`` gives the token texts of one whitespace-free chunk."""

    def __init__(self, rules: dict):
        try:
            self._rules = {k: rules[k] for k in ("prefixes", "suffixes", "infixes", "url_match", "classes")}
            # ASCII-only chunks (nearly all of them) run the rules with every character class cut
            # to its ASCII members: the same splits, and ~20x less compile time at a cold start.
            self._ascii = RuleSet(self._rules, rules["ascii_classes"])
            self._unicode: RuleSet | None = None  # compiled on the first chunk with non-ASCII text
            self._special: dict[str, list[str]] = dict(rules["special_cases"])
            merges = rules.get("merges")
        except (KeyError, TypeError, re.error) as exc:
            raise ValueError(f"tokenizer rules are malformed: {exc}") from exc
        for orth, parts in self._special.items():
            if "".join(parts) != orth:
                raise ValueError(f"tokenizer special case {orth!r} does not split into itself: {parts}")
        self._cache: dict[str, tuple[str, ...]] = {}
        # Special cases that affix or infix rules would split ("d." in "my id.", "Mr." in "Mr.Smith"):
        # found again after splitting, as runs of tokens, and merged back (keyed by first token).
        self._merges: dict[str, list[tuple[str, ...]]] = {}
        for parts in (self.compute_merges() if merges is None else merges):
            self._merges.setdefault(parts[0], []).append(tuple(parts))

    def compute_merges(self) -> list[list[str]]:
        """How each special case splits without special cases, for those the rules would split."""
        out = []
        for orth in self._special:
            r = self._rules_for(orth)
            if not orth.isspace() and (r.prefix_len(orth) or r.suffix_len(orth) or next(r.infix(orth), None)):
                out.append(list(self._split(orth, specials=False)))
        return out

    def _rules_for(self, chunk: str) -> "RuleSet":
        if chunk.isascii():
            return self._ascii
        if self._unicode is None:
            self._unicode = RuleSet(self._rules, self._rules["classes"])
        return self._unicode

    def __call__(self, text: str) -> list[Token]:
        pieces: list[tuple[str, int]] = []
        for m in _CHUNK_RE.finditer(text):
            chunk, pos = m.group(), m.start()
            if chunk[0].isspace():
                # A single leading ' ' belongs to the token before it; the rest is a token.
                if pos > 0 and chunk[0] == " ":
                    chunk, pos = chunk[1:], pos + 1
                if chunk:
                    pieces.append((chunk, pos))
                continue
            for piece in self.pieces(chunk):
                pieces.append((piece, pos))
                pos += len(piece)
        if self._merges:
            pieces = self._merge_specials(text, pieces)
        return [Token(t, s, i) for i, (t, s) in enumerate(pieces)]

    def _merge_specials(self, text: str, pieces: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Merges split special cases back, longest first (then leftmost), never overlapping."""
        found: list[tuple[int, int]] = []
        merges, n_pieces = self._merges, len(pieces)
        for i, (piece, _) in enumerate(pieces):
            for parts in merges.get(piece, ()):
                n = len(parts)
                if i + n <= n_pieces and all(pieces[i + k][0] == parts[k] for k in range(1, n)):
                    found.append((i, i + n))
        if not found:
            return pieces
        found.sort(key=lambda se: (se[0] - se[1], se[0]))
        seen: set[int] = set()
        spans: dict[int, tuple[int, list[str]]] = {}
        for s, e in found:
            if s not in seen and e - 1 not in seen:
                last = pieces[e - 1]
                rule = self._special.get(text[pieces[s][1]:last[1] + len(last[0])])
                if rule:  # tokens separated by a space in the text are not the special case
                    spans[s] = (e, rule)
            seen.update(range(s, e))
        out: list[tuple[str, int]] = []
        i = 0
        while i < n_pieces:
            if i in spans:
                e, rule = spans[i]
                pos = pieces[i][1]
                for part in rule:
                    out.append((part, pos))
                    pos += len(part)
                i = e
            else:
                out.append(pieces[i])
                i += 1
        return out

    def pieces(self, chunk: str) -> tuple[str, ...]:
        cached = self._cache.get(chunk)
        if cached is None:
            cached = self._split(chunk)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[chunk] = cached
        return cached

    def _split(self, chunk: str, specials: bool = True) -> tuple[str, ...]:
        special = self._special.get(chunk) if specials else None
        if special is not None:
            return tuple(special)
        if chunk.isalpha() or chunk.isdecimal():
            return (chunk,)  # no prefix, suffix, infix or URL rule applies to letters or digits alone
        r = self._rules_for(chunk)
        prefixes, core, suffixes = self._split_affixes(r, chunk, specials)
        out = list(prefixes)
        if core:
            if specials and core in self._special:
                out += self._special[core]
            elif r.url(core):
                out.append(core)
            else:
                out += self._split_infixes(r, core)
        out += reversed(suffixes)
        return tuple(out)

    def _split_affixes(self, r: "RuleSet", s: str, specials: bool) -> tuple[list[str], str, list[str]]:
        """Peels prefixes and suffixes, one of each per round, stopping at a special case."""
        prefixes: list[str] = []
        suffixes: list[str] = []
        special = self._special if specials else {}
        last_size = 0
        while s and len(s) != last_size:
            if s in special:
                break
            last_size = len(s)
            pre_len = r.prefix_len(s)
            if pre_len and s[pre_len:] in special:
                prefixes.append(s[:pre_len])
                s = s[pre_len:]
                break
            suf_len = r.suffix_len(s[pre_len:])
            if suf_len and s[:-suf_len] in special:
                suffixes.append(s[-suf_len:])
                s = s[:-suf_len]
                break
            if pre_len and suf_len and pre_len + suf_len <= len(s):
                prefixes.append(s[:pre_len])
                suffixes.append(s[-suf_len:])
                s = s[pre_len:-suf_len]
            elif pre_len:
                prefixes.append(s[:pre_len])
                s = s[pre_len:]
            elif suf_len:
                suffixes.append(s[-suf_len:])
                s = s[:-suf_len]
        return prefixes, s, suffixes

    def _split_infixes(self, r: "RuleSet", s: str) -> list[str]:
        out: list[str] = []
        start = 0
        for m in r.infix(s):
            i_start, i_end = m.span()
            if i_start == 0:  # an infix at the very start is not a split point
                continue
            if i_start != start:
                out.append(s[start:i_start])
            if i_start != i_end:
                out.append(s[i_start:i_end])
            start = i_end
        if s[start:]:
            out.append(s[start:])
        return out


def load_tokenizer(path: Path = RULES_PATH) -> Tokenizer:
    return Tokenizer(json.loads(path.read_text(encoding="utf-8")))
