"""The pubs table's own schema steps (db/record_tables.py runs them after the ones every record table gets)."""
from __future__ import annotations

import hashlib
import json

import orjson

from db.migrations import Migrations
from spiders.sources.fhrs_pubs.venue_kinds import classify_venue

schema = Migrations("pubs", legacy="public")


@schema
def m008_indicator_indexes(db) -> None:
    # A covering index for monitor/indicators/compute.py: pubs are read by (source, scope) without their rows.
    db["pubs"].create_index(["source", "scope", "status", "ward_code", "closed_at", "last_crawl_id"],
                            index_name="idx_pubs_indicators", if_not_exists=True)


@schema
def m011_successor_links(db) -> None:
    # A venue that changed hands links to its successor (and back).
    for name in ("succeeds", "succeeded_by"):
        if name not in db["pubs"].columns_dict:
            db["pubs"].add_column(name, str)


@schema
def m012_venue_kinds(db) -> None:
    # The register's "Pub/bar/nightclub" type holds clubs, hotel bars and restaurants: give every stored venue its
    # kind (new crawls set it; this classifies what an older store already holds), and let the pub indicators
    # read the kind from their covering index.
    for name in ("venue_kind", "venue_kind_rule"):
        if name not in db["pubs"].columns_dict:
            db["pubs"].add_column(name, str)
    rows = db.execute("""select p.id, p.name, p.address, v.data from pubs p left join versions v
                         on v.record_id = p.id and v.content_hash = p.content_hash
                         where p.venue_kind is null""").fetchall()
    updates = []
    for rid, name, address, data in rows:
        kind, rule = classify_venue(name, address)
        # The content hash takes in the kind now: rehash the stored content with it, so the next crawl finds an
        # unchanged venue unchanged instead of recording every venue as changed once.
        content = json.loads(data) if data else None
        digest = hashlib.sha1(orjson.dumps({**content, "venue_kind": kind, "venue_kind_rule": rule},
                                           option=orjson.OPT_SORT_KEYS, default=str)).hexdigest() if content else None
        updates.append((kind, rule, digest, rid))
    db.conn.executemany("update pubs set venue_kind = ?, venue_kind_rule = ?, content_hash = coalesce(?, content_hash)"
                        " where id = ?", updates)
    db.execute("drop index if exists idx_pubs_indicators")
    db["pubs"].create_index(["source", "scope", "status", "venue_kind", "ward_code", "closed_at", "last_crawl_id"],
                            index_name="idx_pubs_kind_indicators", if_not_exists=True)


@schema
def m020_pubs_source_url_index(db) -> None:
    # The register's authority files are asked for conditionally too, and a 304 touches that file's pubs by URL.
    db["pubs"].create_index(["source", "source_url"], index_name="idx_pubs_source_url", if_not_exists=True)
