"""Turn event rows into lines a person can read: the place, its ward, whether it is left behind, the evidence."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import sqlite_utils

from db.fields import http_url
from monitor.delivery.text import DETAIL_LIMIT, clean_text
from spiders import registry

# Order of importance in an alert: closures first, then reopenings, then reported news, then new records.
KIND_ORDER = {"corrected": 0, "closed": 0, "announced": 1, "reopened": 1, "changed_hands": 1, "reported": 2, "new": 3,
              "changed": 4}
KIND_LABELS = {"closed": "Closed", "reopened": "Reopened", "reported": "Reported", "new": "New",
               "announced": "Closure announced",
               "changed": "Changed", "changed_hands": "Changed hands",
               "corrected": "Correction: not closed, changed hands"}
_DETAIL_FIELDS = ("address", "postcode", "recipient_name", "funder_name", "title", "authority", "signal")
_EVIDENCE_SKIP = {"record_id", "source", "ward_code", "lad_code", "name", "first_crawl_id", "reported", "post_url",
                  "old_id", "new_id", "supersedes_closure", "announced"}
_EVIDENCE_LABELS = {"rule": "Why", "year_closed": "Closed (source)", "closed_by": "Closed by",
                    "new_name": "Now registered as", "old_name": "Registered before as",
                    "closure_reported": "Closure reported on", "date_given": "Date the list gives"}


@dataclass
class EventLine:
    event_id: int
    kind: str                    # closed | reopened | reported | new | changed
    kind_label: str
    source: str
    source_label: str
    noun: str
    name: str
    ward_code: str | None
    ward_name: str
    lad_name: str
    left_behind: bool
    at: str
    details: list[tuple[str, str]] = field(default_factory=list)
    evidence: list[tuple[str, str]] = field(default_factory=list)
    amount: float | None = None
    record_link: str = ""
    ward_link: str = ""
    source_url: str = ""
    licence: str = ""
    name_cleaned: bool = False   # the source's name had line breaks or control characters (counted by callers)
    venue_kind: str | None = None  # a register venue's kind: kind_label then says it ("Sports club closed")

    @property
    def place(self) -> str:
        """Return 'Ward, Authority' or the authority alone for news not placed in a ward."""
        if self.ward_name:
            return f"{self.ward_name}, {self.lad_name}" if self.lad_name else self.ward_name
        return self.lad_name or "place not matched to a ward"


def datasette_base(db: sqlite_utils.Database, settings: dict) -> str:
    """Return '{datasette_url}/{database name}', the database name being the file's stem."""
    stem = Path(db.execute("pragma database_list").fetchone()[2]).stem
    return f"{settings['datasette_url'].rstrip('/')}/{quote(stem)}"


def table_link(base: str, table: str, **filters) -> str:
    """Return a Datasette table URL with column filters."""
    return f"{base}/{table}" + (f"?{urlencode(filters)}" if filters else "")


def _humanise(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _scalar_items(data: dict, skip: set[str], limit: int = 6) -> list[tuple[str, str]]:
    out = []
    for key, value in data.items():
        if key in skip or value in (None, "", [], {}) or isinstance(value, (dict, list)):
            continue
        text = str(value)
        out.append((_EVIDENCE_LABELS.get(key) or _humanise(key), text if len(text) <= 160 else text[:159] + "…"))
        if len(out) == limit:
            break
    return out


def _evidence(raw: str | None) -> list[tuple[str, str]]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return [("Evidence", raw[:160])]
    if not isinstance(data, dict):
        return [("Evidence", str(data)[:160])]
    return _scalar_items(data, _EVIDENCE_SKIP)


def _yyyy_mm(value: str) -> str:
    return value[:7]


def when(event: dict) -> list[tuple[str, str]]:
    """Say when a closure, reopening or announcement happened, as far as the lists tell: its observation window
    ("closed between 2016-07 and 2021-01"), or the announcement ("announced to close in 2024")."""
    kind, start, end = event.get("kind"), event.get("window_from"), event.get("window_to")
    if kind == "announced":
        try:
            told = json.loads(event.get("evidence") or "{}").get("announced") or ""
        except ValueError:
            told = ""
        text = f"announced {told}" if told.startswith("to close") else "listed as temporarily closed"
        return [("Warning", text + "; not counted as a closure")]
    if kind not in ("closed", "reopened") or not end:
        return []
    if start:
        return [("When", f"{kind} between {_yyyy_mm(start)} and {_yyyy_mm(end)} (last listed "
                         f"{'open' if kind == 'closed' else 'closed'}, first listed {kind})")]
    return [("When", f"first listed {kind} {_yyyy_mm(end)}")]


def _record(db: sqlite_utils.Database, source: str, record_id: str) -> dict:
    table = registry.tables().get(source)
    if not table or table not in db.table_names():
        return {}
    rows = list(db.query(f"select * from [{table}] where id = ?", [record_id]))
    return rows[0] if rows else {}


def venue_label(kind: str, venue_kind: str) -> str:
    """Return 'Sports club closed', 'Pub reopened', 'New bar' for an event of a venue of this kind."""
    noun = registry.venue_kind_nouns().get(venue_kind, venue_kind.replace("_", " "))
    if kind == "new":
        return f"New {noun}"
    if kind == "corrected":
        return f"Correction: {noun} not closed, changed hands"
    return f"{noun.capitalize()} {kind.replace('_', ' ')}"


def event_line(db: sqlite_utils.Database, event: dict, base: str) -> EventLine:
    """Build the readable line for one event row."""
    record = _record(db, event["source"], event["record_id"])
    ward = {}
    if event.get("ward_code"):
        ward = next(iter(db.query("select name, lad_name, left_behind from wards where code = ?",
                                  [event["ward_code"]])), {})
    lad_name = ward.get("lad_name") or ""
    if not lad_name and event.get("lad_code"):
        lad_name = next(iter(db.query("select lad_name from wards where lad_code = ? limit 1",
                                      [event["lad_code"]])), {}).get("lad_name", "")
    source = registry.source(event["source"])
    reports_only = bool(source and source.closure_rule == "reports")
    kind = "reported" if reports_only and event["kind"] == "new" else event["kind"]
    if kind == "changed_hands" and "supersedes_closure" in (event.get("evidence") or ""):
        kind = "corrected"   # this venue was reported closed: say plainly that it was not
    raw_name = event.get("name") or record.get("name") or ""
    name = clean_text(raw_name)  # one line, no bidi tricks, a name's length: whatever the source sent
    table = source.table if source else "events"
    venue_kind = record.get("venue_kind")
    label = venue_label(kind, venue_kind) if venue_kind else KIND_LABELS.get(kind, kind.capitalize())
    noun = registry.venue_kind_nouns().get(venue_kind) or (source.noun if source else "record")
    return EventLine(
        event_id=event["id"], kind=kind, kind_label=label, venue_kind=venue_kind,
        source=event["source"], source_label=source.label if source else event["source"],
        noun=noun, name=name, name_cleaned=name != raw_name.strip(),
        ward_code=event.get("ward_code"), ward_name=ward.get("name", ""), lad_name=lad_name,
        left_behind=bool(ward.get("left_behind")), at=(event.get("at") or "")[:10],
        details=[(_humanise(k), clean_text(record[k], DETAIL_LIMIT)) for k in _DETAIL_FIELDS if record.get(k)],
        evidence=when(event) + _evidence(event.get("evidence")), amount=record.get("amount"),
        record_link=table_link(base, table, id=event["record_id"]),
        ward_link=table_link(base, "ward_profile", ward=event["ward_code"]) if event.get("ward_code") else "",
        source_url=_link(record.get("post_url"), record.get("source_url"), record.get("link")),
        licence=record.get("licence") or (source.credit if source else ""))


def _link(*urls) -> str:
    """Return the first of urls that may become a link (http or https), or '': `javascript:` is never an href."""
    return next((url for url in map(http_url, urls) if url), "")


def sort_lines(lines: list[EventLine]) -> list[EventLine]:
    """Order lines by importance (closures first), left-behind wards first, then by name."""
    return sorted(lines, key=lambda e: (KIND_ORDER.get(e.kind, 9), not e.left_behind, e.place, e.name))
