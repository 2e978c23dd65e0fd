"""360Giving JSON packages, streamed: grants are read one at a time with ijson, never the whole document.

Some published packages are hundreds of MB: the spider hands us the file the download handler wrote to disk
(spiders/file_download.py), so memory stays flat; bytes are accepted too (wrapped in a BytesIO, which shares them).
"""
from __future__ import annotations

import io
import os

import ijson


def open_binary(source):
    """Open a path, or wrap bytes, as a binary stream."""
    return open(source, "rb") if isinstance(source, (str, os.PathLike)) else io.BytesIO(source)


def json_grants(source, stats=None):
    """Yield each grant dict of a package {"grants": [...]} (also a bare top-level array of grants)."""
    with open_binary(source) as stream:
        prefix = "item" if _starts_with_array(stream.read(64)) else "grants.item"
        stream.seek(0)
        for grant in ijson.items(stream, prefix, use_float=True):
            if isinstance(grant, dict):
                yield grant
            elif stats is not None:
                stats.inc_value("threesixty/json/not_an_object")


def _starts_with_array(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"["
