"""Render the email templates: Jinja2 with autoescape for HTML, CSS inlined for mail clients."""
from __future__ import annotations

from pathlib import Path

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _number(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _signed(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if round(value, digits) == 0:
        return "no change"
    return f"{value:+,.{digits}f}"


def _pounds(value) -> str:
    return "–" if value is None else f"£{value:,.0f}"


def environment() -> Environment:
    """Return the Jinja2 environment: autoescape on .html, strict about missing names."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(number=_number, signed=_signed, pounds=_pounds)
    return env


def render_pair(name: str, **context) -> tuple[str, str]:
    """Render templates/NAME.html (CSS inlined) and templates/NAME.txt with the same context."""
    env = environment()
    html = env.get_template(f"{name}.html").render(**context)
    text = env.get_template(f"{name}.txt").render(**context)
    return css_inline.inline(html), text
