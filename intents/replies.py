"""Every customer-facing sentence, rendered from Jinja2 templates.

Why templates and not f-strings in handlers: wording changes (legal, tone, translation) must not
touch dialog logic, and a reviewer can read every sentence the bot can say in one place.
Hold explanations live one file per reason code under templates/holds/ so compliance can check
that none reveals a rule, threshold or score.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


def money(amount_minor: int, currency: str = "USD") -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency)
    value = f"{abs(amount_minor) / 100:,.2f}"
    sign = "-" if amount_minor < 0 else ""
    return f"{sign}{symbol}{value}" if symbol else f"{sign}{value} {currency}"


def day(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.date()
    return f"{value:%a} {value.day} {value:%b %Y}"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=StrictUndefined,  # a missing variable is a bug, not an empty string
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["money"] = money
    env.filters["day"] = day
    return env


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, str]:
    with open(TEMPLATE_DIR / "replies.yaml", encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError("replies.yaml must be a mapping of key -> template")
    return {str(k): str(v) for k, v in data.items()}


def keys() -> list[str]:
    return sorted(_catalogue())


def render(key: str, **ctx) -> str:
    """Render the reply ``key`` from replies.yaml; unknown keys fail loudly (KeyError)."""
    source = _catalogue()[key]
    return _sentence(" ".join(_env().from_string(source).render(**ctx).split()))


def _sentence(text: str) -> str:
    """Templates may start with a value ("{{ txn }} is still pending"): start with a capital."""
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def render_hold(code: str, **ctx) -> str:
    """Customer-safe explanation of one reason code (templates/holds/<CODE>.j2)."""
    try:
        tpl = _env().get_template(f"holds/{code}.j2")
    except TemplateNotFound:
        tpl = _env().get_template("holds/_generic.j2")
    return " ".join(tpl.render(**ctx).split())
