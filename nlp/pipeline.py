"""The PII / merchant pipeline: a tokenizer and the components named in ``pipeline.cfg``, in order.

Why config-driven: turning a detector off, widening a context window or reordering components is
a reviewed data change (the redaction version in every decision is a digest of this config), not
a code change. One pipeline per process (Lambda container), built lazily by ``nlp.redact``.
"""
from __future__ import annotations

import configparser
import json
from pathlib import Path
from typing import Callable, Iterable

from nlp.components import FACTORIES, Doc
from nlp.tokenizer import Tokenizer, load_tokenizer

__all__ = ["CONFIG_PATH", "Pipeline", "read_config", "build_pipeline"]

CONFIG_PATH = Path(__file__).with_name("pipeline.cfg")


class Pipeline:
    """Tokenizes a text once and runs the components in config order."""

    def __init__(self, tokenizer: Tokenizer, components: list[tuple[str, Callable[[Doc], Doc]]]):
        self.tokenizer = tokenizer
        self.components = components

    @property
    def pipe_names(self) -> list[str]:
        return [name for name, _ in self.components]

    def __call__(self, text: str, assigns: Iterable[str] | None = None) -> Doc:
        """Runs every component, or only those that write one of ``assigns`` ("pii_spans", "ents")."""
        wanted = None if assigns is None else set(assigns)
        doc = Doc(text, self.tokenizer(text))
        for _, component in self.components:
            if wanted is None or getattr(component, "assigns", None) in wanted:
                doc = component(doc)
        return doc


def read_config(path: Path = CONFIG_PATH) -> dict[str, dict]:
    """The config as {"pipeline": [names], name: {"factory": ..., **settings}} (values are JSON)."""
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    try:
        sections = {name: {k: json.loads(v) for k, v in parser[name].items()} for name in parser.sections()}
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: a value is not JSON: {exc}") from exc
    order = sections.get("pipeline", {}).get("components")
    if not isinstance(order, list) or not order:
        raise ValueError(f"{path}: [pipeline] components must list the components in order")
    beyond = sections.get("pipeline", {}).get("beyond_reference", [])
    if not isinstance(beyond, list) or not set(beyond) <= set(order):
        raise ValueError(f"{path}: [pipeline] beyond_reference must list components of the pipeline")
    config: dict[str, dict] = {"pipeline": {"components": order, "beyond_reference": beyond}}
    for name in order:
        section = sections.get(f"components.{name}")
        if section is None:
            raise ValueError(f"{path}: component {name!r} has no [components.{name}] section")
        config[name] = section
    return config


def build_pipeline(path: Path = CONFIG_PATH, tokenizer: Tokenizer | None = None,
                   exclude: Iterable[str] = ()) -> Pipeline:
    """Builds the pipeline from its config; unknown factories or settings are errors, not ignored.
    ``exclude`` leaves components out (the parity check builds it without ``beyond_reference``)."""
    config = read_config(path)
    tokenizer = tokenizer or load_tokenizer()
    components = []
    for name in config["pipeline"]["components"]:
        if name in set(exclude):
            continue
        settings = dict(config[name])
        factory = FACTORIES.get(settings.pop("factory", None))
        if factory is None:
            raise ValueError(f"{path}: component {name!r} names no known factory (known: {sorted(FACTORIES)})")
        try:
            components.append((name, factory(tokenizer, **settings)))
        except TypeError as exc:
            raise ValueError(f"{path}: component {name!r} has an unknown setting: {exc}") from exc
    return Pipeline(tokenizer, components)
