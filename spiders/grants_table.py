"""360Giving CSV and XLSX files: flattened column titles -> grants in the JSON shape.

Titles are matched case-insensitively and by name, never by position ("Recipient Org:Postal Code",
"Beneficiary Location:0:Geographic Code", "Recipient Org:Location:Geographic Code Type"); numbered parts
are array indexes; columns we do not use are tolerated and counted.
"""
from __future__ import annotations

import codecs
import csv
import io
from datetime import date, datetime

from spiders.grants_json import open_binary
from spiders.xlsx_guard import check_xlsx

LOCATION = {"geographic code": "geoCode", "geographic code type": "geoCodeType", "name": "name",
            "country code": "countryCode"}
# title part -> JSON key, or (JSON array key, its own titles) for a flattened array of objects
TITLES: dict = {
    "identifier": "id", "title": "title", "description": "description", "currency": "currency",
    "amount awarded": "amountAwarded", "award date": "awardDate",
    "recipient org": ("recipientOrganization", {
        "identifier": "id", "name": "name", "postal code": "postalCode", "location": ("location", LOCATION)}),
    "recipient ind": ("recipientIndividual", {"identifier": "id", "name": "name"}),
    "beneficiary location": ("beneficiaryLocation", LOCATION),
    "funding org": ("fundingOrganization", {"identifier": "id", "name": "name"}),
    "grant programme": ("grantProgramme", {"title": "title", "code": "code"}),
}
REQUIRED = "identifier"
LOOK_AHEAD = 5


def title_path(title: str) -> list | None:
    """Return the JSON path of a flattened title ([('beneficiaryLocation', 0), 'geoCode']), or None if unused."""
    parts = [p.strip().lower() for p in str(title or "").split(":")]
    spec, path, i = TITLES, [], 0
    while i < len(parts):
        entry = spec.get(parts[i]) if isinstance(spec, dict) else None
        if entry is None:
            return None
        if isinstance(entry, str):
            return path + [entry] if i == len(parts) - 1 else None
        index = 0
        if i + 1 < len(parts) and parts[i + 1].isdigit():
            index, i = int(parts[i + 1]), i + 1
        path.append((entry[0], index))
        spec, i = entry[1], i + 1
    return None


def header_paths(header: list) -> dict[int, list]:
    """Map column positions to JSON paths by the titles in the header row."""
    paths = {}
    for col, title in enumerate(header):
        path = title_path(title)
        if path is not None:
            paths[col] = path
    return paths


def _cell(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        value = value.strip()
    return None if value in ("", None) else value


def unflatten(row, paths: dict[int, list]) -> dict:
    """Build one grant in the JSON shape from a row of cells."""
    grant: dict = {}
    for col, path in paths.items():
        value = _cell(row[col]) if col < len(row) else None
        if value is None:
            continue
        node = grant
        for key, index in path[:-1]:
            items = node.setdefault(key, [])
            while len(items) <= index:
                items.append({})
            node = items[index]
        node[path[-1]] = value
    if isinstance(grant.get("recipientIndividual"), list):   # an object in the schema, not an array
        grant["recipientIndividual"] = grant["recipientIndividual"][0]
    return grant


def find_header(rows, stats=None) -> tuple[list, object]:
    """Return (header, the remaining rows): the header is the first of the first rows with an Identifier title."""
    rows = iter(rows)
    for _ in range(LOOK_AHEAD):
        row = next(rows, None)
        if row is None:
            break
        if REQUIRED in {str(c or "").strip().lower() for c in row}:
            return list(row), rows
        if stats is not None:
            stats.inc_value("threesixty/table/rows_above_header")
    raise ValueError(f"no header row with an {REQUIRED!r} column in the first {LOOK_AHEAD} rows")


def grants_from_rows(rows, stats=None):
    """Yield (grant, raw row dict) from table rows whose header holds flattened 360Giving titles."""
    header, rest = find_header(rows, stats)
    paths = header_paths(header)
    if stats is not None:
        stats.inc_value("threesixty/table/columns_ignored", len([h for h in header if h]) - len(paths))
    for row in rest:
        if not any(_cell(c) is not None for c in row):
            continue
        raw = {str(h): _cell(row[i]) if i < len(row) else None for i, h in enumerate(header) if h}
        yield unflatten(row, paths), raw


def text_encoding(source) -> str:
    """Return utf-8-sig when the whole file decodes as UTF-8, else cp1252 (as some publishers' files are)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        with open_binary(source) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def csv_grants(source, stats=None):
    """Yield (grant, raw) from a CSV file (a path or bytes), read as a stream."""
    encoding = text_encoding(source)
    with io.TextIOWrapper(open_binary(source), encoding=encoding, errors="replace", newline="") as text:
        yield from grants_from_rows(csv.reader(text), stats)


def xlsx_grants(source, stats=None):
    """Yield (grant, raw) from the first sheet of an XLSX file (a path or bytes) with an Identifier title."""
    from openpyxl import load_workbook

    stream = open_binary(source)
    check_xlsx(stream)   # sizes, ratios and shared strings, before openpyxl loads anything
    book = load_workbook(stream, read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            try:
                yield from grants_from_rows(sheet.iter_rows(values_only=True), stats)
                return
            except ValueError:
                continue   # a Readme or Meta sheet before the grants
        raise ValueError("no sheet with an 'identifier' column")
    finally:
        book.close()

