"""Words that are never a merchant's name: the matcher's stop-list, kept as data.

Why separate from the matcher: the list grows from real chats ("are you still there?" once showed a
Shell payment) and is reviewed by people who never read the fuzzy-matching code.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).with_name("data") / "not_merchants.txt"


@lru_cache(maxsize=1)
def ordinary_words() -> frozenset[str]:
    words = set()
    for line in _DATA.read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip().lower()
        if word:
            if not word.isalnum():
                raise ValueError(f"not_merchants.txt: {word!r} is not a single lower-case word")
            words.add(word)
    return frozenset(words)


def is_ordinary_word(token: str) -> bool:
    """True for a chat word that must never count as (part of) a merchant name."""
    return token.lower() in ordinary_words()
