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

from spiders.sources.threesixty_giving.grants_json import open_binary
from spiders.sources.threesixty_giving.grants_paths import json_path, set_path, sub_sheet_rows
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
    "amount disbursed": "amountDisbursed", "amount applied for": "amountAppliedFor", "date modified": "dateModified",
    "from an open call?": "fromOpenCall", "data source": "dataSource",
}
TITLES["recipient org"][1].update({"street address": "streetAddress", "city": "addressLocality",
                                   "country": "addressCountry", "charity number": "charityNumber",
                                   "company number": "companyNumber", "description": "description",
                                   "web address": "url"})
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
    """Map column positions to JSON paths: by 360Giving titles, or headers that are JSON paths (flattentool)."""
    paths = {}
    for col, title in enumerate(header):
        path = title_path(title)
        if path is None:
            found = json_path(title)
            path = ["json", found] if found else None
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
        if path[0] == "json":
            set_path(grant, path[1], value)
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
        titles = {str(c or "").strip() for c in row}
        if REQUIRED in {t.lower() for t in titles} or "id" in titles:   # titles, or flattentool's JSON paths
            return list(row), rows
        if stats is not None:
            stats.inc_value("threesixty/table/rows_above_header")
    raise ValueError(f"no header row with an {REQUIRED!r} column in the first {LOOK_AHEAD} rows")


def grants_from_rows(rows, stats=None, sub_rows: dict | None = None):
    """Yield (grant, raw row dict) from table rows whose header holds flattened 360Giving titles (or JSON paths);
    `sub_rows` are a workbook's sub-sheet elements by grant id (flattentool's layout)."""
    header, rest = find_header(rows, stats)
    paths = header_paths(header)
    if stats is not None:
        stats.inc_value("threesixty/table/columns_ignored", len([h for h in header if h]) - len(paths))
    for row in rest:
        if not any(_cell(c) is not None for c in row):
            continue
        raw = {str(h): _cell(row[i]) if i < len(row) else None for i, h in enumerate(header) if h}
        grant = unflatten(row, paths)
        for path, value in (sub_rows or {}).get(str(grant.get("id")), []):
            set_path(grant, path, value)
            raw["/".join(map(str, path))] = value
        yield grant, raw


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
        # flattentool puts each array in a sheet of its own, keyed by the grant's id: read those first.
        sub_rows: dict[str, list] = {}
        for sheet in book.worksheets[1:]:
            for grant_id, items in sub_sheet_rows(sheet.iter_rows(values_only=True), _cell).items():
                sub_rows.setdefault(grant_id, []).extend(items)
        for sheet in book.worksheets:
            try:
                yield from grants_from_rows(sheet.iter_rows(values_only=True), stats, sub_rows)
                return
            except ValueError:
                continue   # a Readme or Meta sheet before the grants
        raise ValueError("no sheet with an 'identifier' column")
    finally:
        book.close()

