"""Conversational wording (small talk, out-of-scope topics, card loss) rendered from data.

Why a second catalogue beside replies.yaml: these answers are tuned by the support team (tone,
where a topic is handled) far more often than the dispute wording compliance reviews, and each
catalogue is owned and reviewed by the people who change it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from jinja2 import Environment, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=8)
def load_catalogue(name: str) -> dict:
    """A YAML catalogue under intents/templates; a missing or malformed one fails loudly."""
    with open(TEMPLATES / name, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{name} must be a mapping")
    return data


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(undefined=StrictUndefined, autoescape=False)


@lru_cache(maxsize=512)
def _compiled(source: str):
    return _env().from_string(source)  # compiling costs milliseconds a turn; the catalogues are small


def render_text(source: str, **ctx) -> str:
    """One template string rendered on one line (a missing variable is a bug, not a blank)."""
    return " ".join(_compiled(str(source)).render(**ctx).split())


def say(key: str, **ctx) -> str:
    """A sentence from talk.yaml; an unknown key raises KeyError."""
    return render_text(load_catalogue("talk.yaml")[key], **ctx)
