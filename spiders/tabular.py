"""Shared mechanics for sources served as whole files: decode, sniff CSV or JSON, find the header row.

Headers are matched case-insensitively and by name, never by position; unknown columns are tolerated.
"""
from __future__ import annotations

import csv
import io
import json

from spiders.base import SourceSpider


def decode(body: bytes) -> str:
    """Decode UTF-8 (with or without BOM), falling back to Windows-1252 as some council files are."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("[", "{")


def csv_records(text: str, required: set[str], look_ahead: int = 5) -> tuple[list[str], list[dict]]:
    """Return (header, rows as dicts with lower-cased keys), the header being the first row holding `required`.

    Some exports put a title row before the header; rows above the header are skipped.
    """
    rows = list(csv.reader(io.StringIO(text)))
    found = next((i for i, row in enumerate(rows[:look_ahead]) if required <= {h.strip().lower() for h in row}), None)
    if found is None:
        raise ValueError(f"no header row with {sorted(required)} in the first {look_ahead} rows")
    header = [h.strip().lower() for h in rows[found]]
    out = []
    for row in rows[found + 1:]:
        if not any(cell.strip() for cell in row):
            continue
        out.append({header[j]: (row[j] if j < len(row) else "") for j in range(len(header)) if header[j]})
    return header, out


def json_records(text: str) -> list[dict]:
    """Return the list of records in a JSON array, unwrapping an API gateway envelope ({"body": "<json>"})."""
    data = json.loads(text)
    if isinstance(data, dict) and isinstance(data.get("body"), str):
        data = json.loads(data["body"])
    if isinstance(data, dict):
        for key in ("results", "data", "groups", "items"):
            if isinstance(data.get(key), list):
                return data[key]
        raise ValueError("JSON object without a list of records")
    if not isinstance(data, list):
        raise ValueError("JSON is not a list of records")
    return data


class FileSpider(SourceSpider):
    """A source served as one file: subclasses implement items_from(text, response)."""

    def parse(self, response):
        self.seen(self.default_scope)
        try:
            yield from self.items_from(decode(response.body), response)
        except (ValueError, RecursionError, csv.Error) as e:   # RecursionError: JSON nested too deep for json
            self.scope_error(self.default_scope, f"cannot parse {response.url}: {e}")

    def items_from(self, text: str, response):
        raise NotImplementedError
