"""Fixtures shared by the Lex protocol tests: golden files and the response JSON schema."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.lex_events import EVENTS_DIR, RESPONSE_SCHEMA, load_event

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_EVENTS_DIR = REPO_ROOT.parent / "shared" / "data" / "lex_events"


def golden_files() -> list[Path]:
    """Our copies plus, when present, every file of the shared developer set (which may grow)."""
    files = sorted(EVENTS_DIR.glob("*.json"))
    if SHARED_EVENTS_DIR.is_dir():
        known = {f.name for f in files}
        files += [f for f in sorted(SHARED_EVENTS_DIR.glob("*.json")) if f.name not in known]
    return files


def classify(doc: object) -> str:
    """What a golden file is, from its content (names are not a contract)."""
    if not isinstance(doc, dict):
        return "other"
    if "$schema" in doc or "definitions" in doc:
        return "schema"
    if "currentIntent" in doc or "outputDialogMode" in doc:
        return "v1_event"
    if "invocationSource" in doc and "sessionState" in doc:
        return "v2_event"
    if isinstance(doc.get("sessionState"), dict) and "dialogAction" in doc["sessionState"]:
        return "v2_response"
    return "other"


def golden_of(kind: str) -> list[Path]:
    return [f for f in golden_files() if classify(_read(f)) == kind]


def _read(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8-sig"))


@pytest.fixture(scope="session")
def response_validator():
    schema = load_event(RESPONSE_SCHEMA)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture
def read_golden():
    return _read
