"""What a record table is (the columns every one shares, the item-specific ones, the tables) and what is built over
them (the browse view of places, the index of provisional rows). The migrations (db/schema.py) use these."""
from __future__ import annotations

import dataclasses

import sqlite_utils

from db import items

# Columns every record table shares. Source-specific columns come from the item dataclasses (alter=True).
RECORD_COLUMNS = {
    "id": str,              # "<source>:<ref>"
    "source": str,
    "ref": str,             # the source's stable identifier
    "scope": str,           # the crawl scope it belongs to (a local authority for pubs, else the source)
    "name": str,
    "latitude": float,
    "longitude": float,
    "postcode": str,
    "ward_code": str,       # 2017 best-fit ward, NULL when unresolved
    "geo_method": str,      # which resolver step answered
    "geo_reason": str,      # why it is unresolved, when it is
    "status": str,          # open | closed: set by the closures step (monitor/changes/closures.py), never by a crawl
    "closed_at": str,
    "closed_by": str,       # source (the source said so) | absence (missing from N healthy crawls)
    "source_status": str,   # what the source itself says: open | closed
    "source_closed_at": str,
    "missing_count": int,   # consecutive healthy crawls of its scope it was missing from
    "content_hash": str,
    "first_seen_at": str,
    "last_seen_at": str,
    "first_crawl_id": int,
    "last_crawl_id": int,
    "source_url": str,
    "licence": str,
}
RECORD_TABLES = ("groups", "grants", "pubs", "libraries", "news_mentions")


def item_columns() -> dict[str, dict[str, type]]:
    """Return each record table's item-specific columns and types, from the item dataclasses."""
    kinds = {"int": int, "float": float}
    base = {f.name for f in dataclasses.fields(items.Record)}
    out: dict[str, dict[str, type]] = {}
    for cls in vars(items).values():
        if isinstance(cls, type) and issubclass(cls, items.Record) and cls.TABLE:
            out[cls.TABLE] = {f.name: kinds.get(str(f.type).split(" |")[0], str)
                              for f in dataclasses.fields(cls) if f.name not in base}
    return out


def places_view(db: sqlite_utils.Database) -> None:
    # One table of every place with coordinates and its ward's groups, for the map and its facets; register
    # venues also say their venue_kind (pub, bar, members_club...).
    parts = [f"""select '{kind}' as kind, {venue_kind} as venue_kind, r.id, r.name, r.status, r.closed_at, r.source,
               r.latitude, r.longitude, r.ward_code, w.name as ward_name, w.lad_name, w.left_behind, w.other_deprived
        from {table} r left join wards w on w.code = r.ward_code
        where r.latitude is not null and r.longitude is not null"""
             for kind, table, venue_kind in (("group", "groups", "null"), ("pub", "pubs", "r.venue_kind"),
                                             ("library", "libraries", "null"))]
    db.create_view("places", "\nunion all\n".join(parts), replace=True)



def provisional_index(db: sqlite_utils.Database, table: str) -> None:
    """A partial index of the rows an unhealthy crawl flagged: after a healthy crawl, finding them reads only them
    (monitor/changes/crawl.py). Five scans of every row of the table took 0.76 s at 200,000 grants."""
    db.execute(f"create index if not exists [idx_{table}_provisional] on [{table}] (source, scope) "
               "where provisional is not null")
