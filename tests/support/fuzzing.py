"""The size of a fuzz run: a fixed, derandomised sample in ``make test``, at least 10,000 generated
cases per target in ``make fuzz`` (HYPOTHESIS_PROFILE=fuzz).

Why not just the profile: the suite-wide fuzz profile (tests/conftest.py) is sized for every
property test in tests/fuzz and tests/security; the three input boundaries that face the outside
world (Lex events, raw mail, card events) are promised 10,000 cases each (issue 14).
"""
from __future__ import annotations

import os

from hypothesis import settings

BOUNDARY_FUZZ_EXAMPLES = 10_000


def boundary_settings(**kw) -> settings:
    """``settings`` for a test of an outside-facing boundary: the profile's, raised to 10,000
    examples under ``make fuzz``."""
    if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz":
        kw.setdefault("max_examples", BOUNDARY_FUZZ_EXAMPLES)
    return settings(**kw)
