"""Who hands the email service its nlp functions (issue 9): its entry points, never a settings string.

chalicelib does not import nlp; ``app.py`` and the ``python -m chalicelib.email_ingest`` command
pass nlp's triage and redactor in. These tests hold the pieces of that contract that a refactor
could quietly undo.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_a_service_without_a_triage_function_is_refused():
    """Given no triage function / When the email service is built / Then a TypeError names what it needs."""
    from chalicelib.core.settings import Settings
    from chalicelib.ingest.email_ingest import build_email_ingest_service

    with pytest.raises(TypeError, match="triage_fn"):
        build_email_ingest_service(Settings(), triage_fn=None, redact_fn=None, s3=object(), store=object(),
                                   decision_log=object(), idempotency=object())
    with pytest.raises(TypeError, match="redact_fn"):
        build_email_ingest_service(Settings(), triage_fn=len, redact_fn="nlp.redact", s3=object(), store=object(),
                                   decision_log=object(), idempotency=object())


def test_importing_the_command_module_loads_no_nlp():
    """Given the documented command's module / When it is imported (not run) / Then no nlp module is
    loaded: only running it as a command wires nlp in."""
    code = ("import sys, chalicelib.email_ingest, chalicelib.ingest.email_ingest; "
            "print(sorted(m for m in sys.modules if m == 'nlp' or m.startswith('nlp.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_documented_command_still_answers():
    """Given ``python -m chalicelib.email_ingest`` / When asked for help / Then it answers under its documented name."""
    out = subprocess.run([sys.executable, "-m", "chalicelib.email_ingest", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "python -m chalicelib.email_ingest" in out.stdout
