"""What a record table is (the columns every one shares, the steps every one gets) and what is built over them (the
browse view of places, the index of provisional rows).

The store does not know which record tables there are: each source declares its own (its item's columns, its
migrations, its place on the map) and the source registry (spiders/registry.py) hands them in through `provide`.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson
import sqlite_utils

from core.errors import StoreError
from db.migrations import Migrations, Step

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


@dataclass(frozen=True)
class RecordTable:
    """A record table as its source declares it: its item's own columns, its own migrations, its place on the map."""
    name: str
    columns: dict[str, type] = field(default_factory=dict)   # the item's columns beyond RECORD_COLUMNS
    steps: tuple[tuple[str, Step], ...] = ()   # its own schema steps, run after the shared ones of the same number
    place_kind: str = ""          # its rows with coordinates are in the places view as this kind ("" = not)
    venue_kind: str = "null"      # SQL (over alias r) for a place's venue kind
    legacy: str | None = None     # the set its steps were recorded in before each table had its own ("public")
    seen_apart: bool = False      # its seen marks are kept in a side table (db/seen.py)

    def migrations(self) -> Migrations:
        """Return its migration set: the table and its item's columns first, then its own steps and the rest of
        those every record table gets, in name order."""
        migrations = Migrations(self.name, legacy=self.legacy)
        create, columns, *later = shared_steps(self)
        migrations.steps = [create, columns, *sorted([*later, *self.steps], key=lambda step: step[0])]
        return migrations


_provider: Callable[[], Iterable[RecordTable]] | None = None


def provide(tables: Callable[[], Iterable[RecordTable]]) -> None:
    """Tell the store where the record tables come from (the source registry calls this when it is imported)."""
    global _provider
    _provider = tables


def registered() -> dict[str, RecordTable]:
    """Return every record table, by name, as the sources declare them."""
    if _provider is None:
        raise StoreError("the store knows no record tables: import the source registry (spiders.registry) first")
    return {table.name: table for table in _provider()}


def names() -> tuple[str, ...]:
    return tuple(registered())


def shared_steps(table: RecordTable) -> list[tuple[str, Step]]:
    """Return the steps every record table gets, named as they were when they ran over all of them at once."""
    def m003_records(db: sqlite_utils.Database) -> None:
        db[table.name].create(dict(RECORD_COLUMNS), pk="id", if_not_exists=True)
        db[table.name].create_index(["ward_code"], if_not_exists=True)
        db[table.name].create_index(["source", "scope"], if_not_exists=True)

    def m005_browse_item_columns(db: sqlite_utils.Database) -> None:
        # Datasette's canned queries name item columns (grants.amount, funder_name...); a store with no rows of a
        # kind yet would otherwise lack them, since upserts add them with alter=True only when a row arrives.
        have = set(db[table.name].columns_dict)
        for name, kind in table.columns.items():
            if name not in have:
                db[table.name].add_column(name, kind)

    def m018_orjson_content_hashes(db: sqlite_utils.Database) -> None:
        # Content hashes are now taken over orjson's canonical form (spiders/pipelines/store.py): rehash what an
        # older store holds from its stored content, so the next crawl finds unchanged records unchanged.
        rows = db.execute(f"""select r.id, min(v.data) from [{table.name}] r join versions v
                              on v.record_id = r.id and v.content_hash = r.content_hash group by r.id""").fetchall()
        updates = [(hashlib.sha1(orjson.dumps(json.loads(data), option=orjson.OPT_SORT_KEYS)).hexdigest(), rid)
                   for rid, data in rows if data]
        db.conn.executemany(f"update [{table.name}] set content_hash = ? where id = ?", updates)

    def m024_provisional_index(db: sqlite_utils.Database) -> None:
        # After a healthy crawl, the rows an unhealthy one flagged are found through a partial index of the flagged
        # rows alone (monitor/changes/crawl.py): five scans of every row of the table took 0.76 s at 200,000 grants.
        if "provisional" not in db[table.name].columns_dict:
            db[table.name].add_column("provisional", int)
        provisional_index(db, table.name)

    return [(step.__name__, step) for step in (m003_records, m005_browse_item_columns, m018_orjson_content_hashes,
                                               m024_provisional_index)]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Run each record table's steps not yet applied and rebuild the places view if it changed; return the steps."""
    tables = registered().values()
    ran = [name for table in tables for name in table.migrations().apply(db)]
    places_view(db, tables)
    return ran


def places_view(db: sqlite_utils.Database, tables: Iterable[RecordTable]) -> None:
    # One table of every place with coordinates and its ward's groups, for the map and its facets; register
    # venues also say their venue_kind (pub, bar, members_club...).
    parts = [f"""select '{t.place_kind}' as kind, {t.venue_kind} as venue_kind, r.id, r.name, r.status, r.closed_at, r.source,
               r.latitude, r.longitude, r.ward_code, w.name as ward_name, w.lad_name, w.left_behind, w.other_deprived
        from {t.name} r left join wards w on w.code = r.ward_code
        where r.latitude is not null and r.longitude is not null"""
             for t in tables if t.place_kind]
    sql = "\nunion all\n".join(parts)
    have = db.execute("select sql from sqlite_master where type = 'view' and name = 'places'").fetchone()
    if parts and not (have and have[0].endswith(sql)):   # rewritten only when a source's place changed
        with db.conn:
            db.create_view("places", sql, replace=True)


def provisional_index(db: sqlite_utils.Database, table: str) -> None:
    """A partial index of the rows an unhealthy crawl flagged: after a healthy crawl, finding them reads only them
    (monitor/changes/crawl.py). Five scans of every row of the table took 0.76 s at 200,000 grants."""
    db.execute(f"create index if not exists [idx_{table}_provisional] on [{table}] (source, scope) "
               "where provisional is not null")
