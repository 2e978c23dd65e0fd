"""360Giving JSON packages, streamed: grants are read one at a time with ijson, never the whole document.

Some published packages are hundreds of MB. The body Scrapy hands us is wrapped in a BytesIO, which shares the bytes object
(CPython copies only on write), so no second copy is made; each grant becomes a dict only while it is mapped.
"""
from __future__ import annotations

import io

import ijson


def json_grants(body, stats=None):
    """Yield each grant dict of a package {"grants": [...]} (also a bare top-level array of grants)."""
    stream = io.BytesIO(body) if not hasattr(body, "read") else body
    prefix = "item" if _starts_with_array(body) else "grants.item"
    for grant in ijson.items(stream, prefix, use_float=True):
        if isinstance(grant, dict):
            yield grant
        elif stats is not None:
            stats.inc_value("threesixty/json/not_an_object")


def _starts_with_array(body) -> bool:
    head = bytes(body[:64]) if not hasattr(body, "read") else b""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"["
