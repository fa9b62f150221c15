"""Suite-wide settings: hypothesis profiles.

`make test` runs the default profile: derandomised (a fixed seed derived from each test) and with
no example database, so every fresh clone gets the same examples and the same verdict. `make fuzz`
sets HYPOTHESIS_PROFILE=fuzz: random, long, and it keeps what it finds in `.hypothesis/` so a
failure can be replayed; every example that ever failed is then pinned with `@example`.
No deadline: shared 2-core machines make timings noisy, and speed is measured by `make bench`.
The settings cache is cleared around every test (``fresh_settings``): no test inherits another's.
"""
import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from chalicelib.core.settings import get_settings
from tests.support.aws import aws_env, moto_aws  # noqa: F401  (fake AWS for every suite, one copy)

settings.register_profile("default", max_examples=40, deadline=None, derandomize=True, database=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=3000, deadline=None, derandomize=False,
                          database=DirectoryBasedExampleDatabase(".hypothesis/examples"), print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def fresh_settings():
    """Every test reads the settings of its own environment: `get_settings()` is cached per process, and a
    test that cached it under its own DA_* variables (a temp store, a switched-on local channel) once moved
    the conversation-set score of every later test in the same xdist worker."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def pytest_terminal_summary(terminalreporter):
    """Say it loudly when the browser tests could not run (no Chromium, no Playwright): a skip line
    in -q output is easy to miss, and a green run without them proves nothing about the web pages."""
    reasons = {str(r.longrepr[-1]) for r in terminalreporter.stats.get("skipped", [])
               if isinstance(r.longrepr, tuple) and "BROWSER TESTS SKIPPED" in str(r.longrepr[-1])}
    for reason in sorted(reasons):
        terminalreporter.write_sep("!", "BROWSER TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(reason.removeprefix("Skipped: "))
