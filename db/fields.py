"""Field caps and link checks: how long each stored text field may be, and which URLs may become links.

A source can send a 20 MB title or a 200 MB name; stored whole it would make every page that shows it slow or
broken. The validate pipeline quarantines a record with any text field over its cap (spiders/pipelines/validate.py);
the quarantine keeps the raw row with long strings cut (cut_long). The caps sit far above anything the real
sources send (the longest in the demo's data: a 763-character grant description, a 602-character group link).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

# Characters, per field name; any other text field gets DEFAULT_CAP.
FIELD_CAPS = {
    "ref": 1_000, "name": 500, "title": 1_000, "recipient_name": 500, "funder_name": 500, "programme": 500,
    "publisher": 500, "authority": 500, "location_name": 1_000, "address": 1_000,
    "description": 20_000, "text": 20_000, "beneficiary_locations": 100_000,
    "source_url": 2_000, "link": 2_000, "post_url": 2_000,
}
DEFAULT_CAP = 1_000
QUARANTINE_STRING = 1_000   # the longest string kept of a quarantined raw row
# Space, controls, bidi and invisible marks, and what a browser reads as something else in a URL.
_UNLINKABLE = re.compile('[\x00-\x20\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"<>\\\\`]')


def over_caps(values: dict) -> list[tuple[str, int, int]]:
    """Return (field, length, cap) for every text value longer than its field's cap."""
    return [(name, len(value), FIELD_CAPS.get(name, DEFAULT_CAP)) for name, value in values.items()
            if type(value) is str and len(value) > FIELD_CAPS.get(name, DEFAULT_CAP)]


def cut_long(value, limit: int = QUARANTINE_STRING):
    """Return value with every string in it (in dicts and lists too) cut to limit characters, saying how long it was."""
    if isinstance(value, str):
        return value if len(value) <= limit else f"{value[:limit]}… [{len(value):,} characters]"
    if isinstance(value, dict):
        return {cut_long(k, limit): cut_long(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cut_long(v, limit) for v in value]
    return value


def http_url(value) -> str | None:
    """Return value when it is an absolute http(s) URL with a host that may become a link, else None.

    `javascript:`, `data:`, `vbscript:`, protocol-relative (`//host`) and relative URLs all give None, as do
    URLs with spaces or control characters (a browser strips some of those and reads another scheme)."""
    if not isinstance(value, str) or not value or len(value) > FIELD_CAPS["source_url"]:
        return None
    if _UNLINKABLE.search(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or not parts.hostname:
        return None
    return value
