"""Text from sources made safe to show in mail: one line, no control or bidi-override characters, a sane length.

A name with U+202E (right-to-left override) can make "Closed: The Red Lion" read as something else in a subject
line; a 20,000-character name is a paragraph, not a name. Every name, detail and header passes through here.
"""
from __future__ import annotations

import re

# C0 and C1 controls, DEL; bidi embeddings, overrides and isolates; marks that render as nothing.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]+")
NAME_LIMIT = 200
DETAIL_LIMIT = 500


def strip_unsafe(value: str) -> str:
    """Return value with control, bidi and invisible characters replaced by spaces (line breaks kept)."""
    return _UNSAFE.sub(lambda m: "\n" if "\n" in m.group() else " ", value)


def clean_text(value, limit: int = NAME_LIMIT) -> str:
    """Return value on one line without control or bidi characters, cut to `limit` characters with an ellipsis."""
    cleaned = " ".join(_UNSAFE.sub(" ", str(value or "")).split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned
