"""Check a setting's value against what its row in core/config.py declares: type, range, choices.

A Setting's type is its default's unless `kind` names another (a tuple of types, "date", "timezone", or "archives":
a table of tables or false); a number lies in [low, high], low being 0 when not given, so no number is ever
negative.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    """One setting: its default, help, environment variable, and what values it accepts."""
    name: str
    default: Any
    help: str
    env: str | None = None
    kind: Any = None            # a type, a tuple of types, "date", "timezone" or "archives"; None: the default's
    low: float | None = None    # numbers lie in [low, high]; None: 0, so no number is ever negative
    high: float | None = None
    choices: tuple = ()         # for text: the only values allowed

    def low_or_zero(self) -> float:
        return 0 if self.low is None else self.low


def from_text(s: Setting, raw: str) -> Any:
    """Return an environment variable's text as the setting's type, or the text itself when it is not one."""
    kind = s.kind or type(s.default)
    try:
        if kind is bool:
            return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}[raw.lower()]
        if kind in (int, float):
            return kind(raw.strip())
    except (KeyError, ValueError):
        pass
    return raw


def expected(s: Setting) -> str:
    """Say in words what a setting accepts."""
    kind = s.kind or type(s.default)
    if kind in (int, float):
        low, high = s.low_or_zero(), s.high
        span = f" from {low:g} to {high:g}" if high is not None else f" of at least {low:g}"
        return ("a whole number" if kind is int else "a number") + span
    if s.choices:
        return "one of " + ", ".join(f'"{c}"' for c in s.choices)
    if kind == "archives":
        return "a table of tables (archive_url, last_listing), or false for a source to treat as live"
    if kind is dict:
        return "a table of tables" if s.default and type(next(iter(s.default.values()))) is dict else \
            "a table of texts in quotes"
    return {bool: "true or false", str: "text in quotes", list: "a list of texts in quotes",
            "date": 'a date like "2010-01-01"', "timezone": 'a time zone like "Europe/London"',
            (bool, list): 'true, false or a list of "host:port" texts'}[kind]


def _fits(s: Setting, value: Any) -> bool:
    kind = s.kind or type(s.default)
    if isinstance(kind, tuple):
        return any(_fits(replace(s, default=None, kind=k), value) for k in kind)
    high = math.inf if s.high is None else s.high
    if kind is float:
        return type(value) in (int, float) and value == value and s.low_or_zero() <= value <= high
    if kind is int:
        return type(value) is int and s.low_or_zero() <= value <= high
    if kind is list:
        return type(value) is list and all(type(v) is str for v in value)
    if kind is dict:
        item = type(next(iter(s.default.values()))) if s.default else str
        return type(value) is dict and all(type(v) is item for v in value.values())
    if kind == "archives":
        return type(value) is dict and all(v is False or (type(v) is dict and all(type(x) is str for x in v.values()))
                                           for v in value.values())
    if kind in ("date", "timezone"):
        return type(value) is str and _parses(kind, value)
    return type(value) is kind and (not s.choices or value in s.choices)


def _parses(kind: str, value: str) -> bool:
    try:
        date.fromisoformat(value) if kind == "date" else ZoneInfo(value)
    except (ValueError, OSError, ZoneInfoNotFoundError):
        return False
    return True


def check(s: Setting, value: Any, given: str) -> Any:
    """Return the value if it fits the setting; raise a one-line ConfigError naming it and what was expected."""
    kind = s.kind or type(s.default)
    if kind == "date" and type(value) is date:   # TOML's own date literal, unquoted
        value = value.isoformat()
    if not _fits(s, value):
        raise ConfigError(f"{given}: expected {expected(s)}")
    return float(value) if kind is float else value


def shown(text: str) -> str:
    """Return a value as it goes into a one-line message: printable, and at most 60 characters."""
    text = text if text.isprintable() else repr(text)
    return text if len(text) <= 60 else text[:57] + "..."
