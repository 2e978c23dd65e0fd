"""The three layouts of a libraries file (LibrariesHacked combined CSV, DCMS/ACE basic dataset, 2016 Taskforce
list), told apart by their header and read into one set of fields.

Shared by the spider and by spiders/sources/libraries/library_authorities.py, which derives the 2016 list's authority names.
"""
from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

from spiders.sources.libraries.library_match import LibraryKey
from spiders.tabular import csv_records

LOOKUP = Path(__file__).parent / "reference" / "library_authorities_2016.csv"

TASKFORCE_2016 = {"name", "authority_id", "closed_year"}
LIBRARIES_HACKED = {"local authority", "library name", "postcode"}
DCMS_BASIC = {"reporting", "name", "postcode", "uprn", "closed"}
_YEAR = re.compile(r"\b(19|20)\d{2}\b")


_CLOSED_WORD = re.compile(r"\bclosed\b", re.I)
_OPEN_WORDS = re.compile(r"\b(not|open|opened|reopened|re-opened|tbc|unknown|n/?a|no)\b", re.I)


def closed_year(value: str | None) -> tuple[bool, str | None]:
    """Return (closed, year) from a 'Year closed' cell, closed only when the cell says so.

    A year or a date ('2013', '31/03/2015') or the word 'closed' is the source saying the library closed; a cell
    that also says 'not', 'open', 'reopened', 'TBC', 'unknown' (or holds '0', '-', nothing) leaves it open.
    """
    text = (value or "").strip()
    if not text or _OPEN_WORDS.search(text) or not re.search(r"[a-z1-9]", text, re.I):
        return False, None
    found = _YEAR.search(text)
    if found:
        return True, found.group(0)
    return (True, None) if _CLOSED_WORD.search(text) else (False, None)


def from_taskforce_2016(r: dict) -> dict:
    # XL closed, XLR closed and replaced, XLT closed temporarily ("Temporarily Closed for refurb"): not a closure.
    code = (r.get("closed") or "").strip().upper()
    temporary = code == "XLT"
    closed = code.startswith("XL") and not temporary
    authority = authority_names_2016().get((r.get("authority_id") or "").strip())
    return {"name": r.get("name"), "authority": authority, "source_id": f"taskforce2016:{r.get('id')}",
            "address": r.get("address"), "postcode": r.get("postcode"), "uprn": None,
            "latitude": r.get("lat"), "longitude": r.get("lng"),
            "statutory": {"t": "Yes", "f": "No"}.get((r.get("statutory2016") or "").strip()),
            "library_type": r.get("type"), "year_opened": r.get("opened_year"),
            "closed": closed, "year_closed": (r.get("closed_year") or "").strip() or None, "temporary": temporary}


def reopened_since(year_closed: str | None, year_opened: str | None) -> bool:
    """Say whether a row's own years say it reopened: opened in a later year than it closed ('2012', '2017')."""
    opened = _YEAR.search(year_opened or "")
    return bool(year_closed and opened and opened.group(0) > year_closed)


def from_libraries_hacked(r: dict) -> dict:
    closed, year = closed_year(r.get("year closed"))
    # "Branch Library was closed in 2012 and re-opened within Community Hub North": Year closed 2012, Year opened
    # 2017. The row says the library is open again, not closed.
    reopened = closed and reopened_since(year, r.get("year opened"))
    address = ", ".join(filter(None, (r.get(k, "").strip() for k in ("address 1", "address 2", "address 3"))))
    return {"name": r.get("library name"), "authority": r.get("local authority"), "address": address or None,
            "postcode": r.get("postcode"), "uprn": r.get("unique property reference number"),
            "latitude": r.get("latitude"), "longitude": r.get("longitude"),
            "statutory": (r.get("statutory") or "").strip().capitalize() or None,
            "library_type": r.get("type of library"), "year_opened": r.get("year opened"),
            "closed": closed and not reopened, "year_closed": year, "reopened": reopened}


def latest_operation(r: dict) -> str:
    """Return the row's latest operation_YY cell, lower case: 'closed', 'temporary closure', 'la', 'cr'..."""
    years = sorted(k for k in r if re.fullmatch(r"operation_\d\d", k or ""))
    return (r.get(years[-1]) or "").strip().lower() if years else ""


def from_dcms_basic(r: dict) -> dict:
    closed, year = closed_year(r.get("closed"))
    operation = latest_operation(r)
    # The closure column may be empty where the year's operation says "Closed" (South Shields Central Library,
    # 2023): closed, undated. A "Temporary Closure" is not a closure: the monitor announces it.
    undated = not closed and operation == "closed"
    temporary = operation == "temporary closure"
    address = ", ".join(filter(None, (r.get(k, "").strip() for k in ("address1", "address2", "address3"))))
    return {"name": r.get("name"), "authority": r.get("reporting") or r.get("authority"),
            "address": address or None, "postcode": r.get("postcode"), "uprn": r.get("uprn"),
            "latitude": None, "longitude": None, "statutory": r.get("statutory_23") or None,
            "library_type": r.get("type"), "year_opened": r.get("opened"), "year_closed": year,
            "closed": (closed or undated) and not temporary, "closed_undated": undated, "temporary": temporary}


LAYOUTS = ((TASKFORCE_2016, from_taskforce_2016, "taskforce_2016"), (DCMS_BASIC, from_dcms_basic, "dcms_basic"),
           (LIBRARIES_HACKED, from_libraries_hacked, "libraries_hacked"))


def rows_of(text: str) -> tuple[str, list[tuple[dict, dict]]]:
    """Return (layout name, [(fields, raw row)]) of a libraries file, whichever of the three layouts it is."""
    for required, convert, layout in LAYOUTS:
        try:
            _, records = csv_records(text, required)
        except ValueError:
            continue
        return layout, [(convert(r), r) for r in records]
    raise ValueError("not a libraries file: no known header (LibrariesHacked, DCMS/ACE basic or Taskforce 2016)")


def keys_of(rows: list[tuple[dict, dict]]) -> list[LibraryKey]:
    return [LibraryKey(name=f["name"] or "", authority=f["authority"], postcode=f["postcode"], uprn=f["uprn"],
                       closed=f["closed"], source_id=f.get("source_id")) for f, _ in rows]


@lru_cache(maxsize=1)
def authority_names_2016(path: Path = LOOKUP) -> dict[str, str]:
    """Return the shipped lookup: the 2016 list's authority_id -> library authority name."""
    with open(path, newline="", encoding="utf-8") as f:
        return {r["authority_id"]: r["authority"] for r in csv.DictReader(f)}
