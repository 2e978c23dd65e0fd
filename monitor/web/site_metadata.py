"""The site's Datasette metadata and canned queries: db/datasette/ filled in from what the sources declare.

Given to Datasette by the plugin's `get_metadata` and `canned_queries` hooks, for the database file it serves, so
plain `datasette leftbehind.db` shows the same titles, provenance, licences and queries as `run.py serve`.
"""
from __future__ import annotations

import json
from functools import cache

from db.serve import build_metadata
from monitor.indicators.definitions import ward_numerators_case
from spiders import registry


@cache
def _metadata_json(db_name: str) -> str:
    return json.dumps(build_metadata(db_name, provenance=registry.table_provenance(), fragments=query_fragments(),
                                     extra=registry.source_queries()))


def site_metadata(db_name: str) -> dict:
    """Return the metadata of a public database named db_name, canned queries included (a fresh copy each call)."""
    return json.loads(_metadata_json(db_name))   # Datasette merges into what it is given: never the cached one


def query_fragments() -> dict[str, str]:
    """The canned queries' generated parts: the ward's numerators from the indicators' definitions, and the
    records' columns and rows from what each source declares of its record table."""
    return {"ward_numerator": ward_numerators_case(registry.tables()), "closed_record": closed_record_sql(),
            "ward_records": ward_records_sql()}


def closed_record_sql() -> str:
    """Return recent_closures.sql's record columns: the venue kind, closed_at and closed_by from the places' tables."""
    places = [t for t in registry.tables_of_sources() if t.place_kind]

    def first(expr: str, tables) -> str:
        return "coalesce(" + ", ".join([*(f"(select {expr} from [{t.name}] r where r.id = e.record_id)"
                                          for t in tables), "null"]) + ")"
    return (f"{first('venue_kind', [t for t in places if t.venue_kind != 'null'])} as venue_kind,\n"
            f"    {first('closed_at', places)} as closed_at,\n    {first('closed_by', places)} as closed_by,")


def ward_records_sql() -> str:
    """Return ward_profile.sql's records part: each source's rows in the ward, in its own words."""
    parts, done = [], set()
    for s in registry.ranked():
        if s.ward_profile and s.table not in done:
            done.add(s.table)
            section, item, date, detail = s.ward_profile
            parts.append(f"select {len(parts) + 2}, {section}, {item}, status, {date}, {detail},\n"
                         f"           null, null, null, null, null, null, null, id\n"
                         f"    from [{s.table}] where ward_code = :ward")
    return "\n    union all\n    ".join(parts) or "select 2, null, null, null, null, null, null, null, null, " \
        "null, null, null, null, null where 0"
