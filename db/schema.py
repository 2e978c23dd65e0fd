"""The public database's schema, as migrations. Nothing personal is stored here."""
from __future__ import annotations

import hashlib
import json

import orjson
import sqlite_utils

from db import seen
from db.migrations import Migrations
from db.record_tables import RECORD_COLUMNS, RECORD_TABLES, item_columns, places_view, provisional_index
from db.venue_kinds import classify_venue

public = Migrations("public")
__all__ = ["RECORD_COLUMNS", "RECORD_TABLES", "public"]


@public
def m001_reference(db: sqlite_utils.Database) -> None:
    db["wards"].create({
        "code": str, "name": str, "lad_code": str, "lad_name": str, "region": str, "population": int,
        "imd_score": float, "cni_score": float, "civic_assets_score": float, "connectedness_score": float,
        "engaged_community_score": float, "left_behind": int, "most_deprived_10pc": int, "other_deprived": int,
    }, pk="code")
    db["wards"].create_index(["lad_code"])
    db["lsoas"].create({"code": str, "ward_code": str, "population": int, "imd_decile": int}, pk="code",
                       foreign_keys=[("ward_code", "wards", "code")])
    db["ward_aliases"].create({"code": str, "vintage": str, "ward_code": str, "rule": str}, pk="code",
                              foreign_keys=[("ward_code", "wards", "code")])
    db["postcode_cache"].create({"postcode": str, "result": str, "fetched_at": str}, pk="postcode")
    db["place_cache"].create({"query": str, "result": str, "fetched_at": str}, pk="query")


@public
def m002_crawls(db: sqlite_utils.Database) -> None:
    db["crawl_runs"].create({
        "id": int, "source": str, "scope": str, "start_url": str, "started_at": str, "finished_at": str,
        "now": str, "status": str, "reason": str, "items": int, "new": int, "changed": int, "unchanged": int,
        "quarantined": int, "unresolved": int, "healthy_scopes": int, "unhealthy_scopes": int, "stats": str,
    }, pk="id")
    db["crawl_runs"].create_index(["source", "started_at"])
    db["scope_runs"].create({
        "id": int, "crawl_id": int, "source": str, "scope": str, "items": int, "errors": int,
        "healthy": int, "reason": str, "at": str,
    }, pk="id", foreign_keys=[("crawl_id", "crawl_runs", "id")])
    db["scope_runs"].create_index(["source", "scope", "id"])
    db["quarantine"].create({
        "id": int, "crawl_id": int, "source": str, "ref": str, "reason": str, "raw": str, "at": str,
    }, pk="id", foreign_keys=[("crawl_id", "crawl_runs", "id")])


@public
def m003_records(db: sqlite_utils.Database) -> None:
    for table in RECORD_TABLES:
        db[table].create(dict(RECORD_COLUMNS), pk="id")
        db[table].create_index(["ward_code"])
        db[table].create_index(["source", "scope"])
    db["versions"].create({
        "id": int, "record_id": str, "record_table": str, "crawl_id": int, "at": str, "content_hash": str,
        "data": str,
    }, pk="id")
    db["versions"].create_index(["record_id"])
    db["versions"].create_index(["crawl_id"])


@public
def m004_events_indicators(db: sqlite_utils.Database) -> None:
    db["events"].create({
        "id": int, "kind": str, "source": str, "record_id": str, "ref": str, "name": str, "ward_code": str,
        "lad_code": str, "at": str, "crawl_id": int, "evidence": str, "baseline": int,
    }, pk="id")
    db["events"].create_index(["kind", "at"])
    db["events"].create_index(["crawl_id"])
    db["events"].create_index(["ward_code"])
    db["indicators"].create({
        "id": int, "computed_at": str, "indicator": str, "area_group": str, "numerator": float,
        "population": int, "value": float, "coverage": str, "window_from": str, "window_to": str,
    }, pk="id")
    db["indicators"].create_index(["indicator", "area_group", "computed_at"])


@public
def m005_browse_item_columns(db: sqlite_utils.Database) -> None:
    # Datasette's canned queries name item columns (grants.amount, funder_name...); a store with no rows of a
    # kind yet would otherwise lack them, since upserts add them with alter=True only when a row arrives.
    for table, columns in item_columns().items():
        have = set(db[table].columns_dict)
        for name, kind in columns.items():
            if name not in have:
                db[table].add_column(name, kind)


@public
def m006_browse_places_view(db: sqlite_utils.Database) -> None:
    places_view(db)


@public
def m007_download_state(db: sqlite_utils.Database) -> None:
    # HTTP validators of each downloaded file (360Giving publishers' files), for conditional GETs next time.
    db["download_state"].create({
        "url": str, "etag": str, "last_modified": str, "registry_modified": str, "crawl_id": int, "grants": int,
    }, pk="url")
    db["grants"].create_index(["source", "source_url"], if_not_exists=True)   # touching a not-modified file's grants


@public
def m008_indicator_indexes(db: sqlite_utils.Database) -> None:
    # Covering indexes for monitor/indicators/compute.py: the grants window and the COVID grants are range searches, and
    # the venue tables are read by (source, scope) without touching their rows; 1M grants recompute in < 1 s.
    db["grants"].create_index(["source", "award_date", "ward_code", "currency", "amount"],
                              index_name="idx_grants_indicator_window", if_not_exists=True)
    db["grants"].create_index(["source", "covid", "ward_code", "currency", "amount"],
                              index_name="idx_grants_indicator_covid", if_not_exists=True)
    for table in ("groups", "pubs", "libraries"):
        db[table].create_index(["source", "scope", "status", "ward_code", "closed_at", "last_crawl_id"],
                               index_name=f"idx_{table}_indicators", if_not_exists=True)


@public
def m009_crawl_recovery(db: sqlite_utils.Database) -> None:
    # pid: a crawl left unjudged by a dead process is found and judged unhealthy at the next start.
    # applied_at: events were derived from this crawl; a healthy crawl killed before that is not a baseline to
    # compare against, so the records it first stored still get their `new` events from the next crawl.
    db["crawl_runs"].add_column("pid", int)
    db["crawl_runs"].add_column("applied_at", str)
    db.execute("update crawl_runs set applied_at = finished_at where finished_at is not null")


@public
def m010_indicator_intervals(db: sqlite_utils.Database) -> None:
    # The 95% interval of each rate (same unit as value), whether it is reliable, and why not.
    for name, kind in (("ci_low", float), ("ci_high", float), ("reliable", int), ("note", str)):
        if name not in db["indicators"].columns_dict:
            db["indicators"].add_column(name, kind)


@public
def m011_changed_hands_backfill(db: sqlite_utils.Database) -> None:
    # A venue that changed hands links to its successor (and back); a closure the source dates long before the
    # crawl that reported it is `backfill`: counted at its date, never news. closed_on is the source's date.
    for table in ("pubs", "libraries"):
        for name in ("succeeds", "succeeded_by"):
            if name not in db[table].columns_dict:
                db[table].add_column(name, str)
    for name, kind in (("backfill", int), ("closed_on", str)):
        if name not in db["events"].columns_dict:
            db["events"].add_column(name, kind)


@public
def m012_venue_kinds(db: sqlite_utils.Database) -> None:
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
    places_view(db)
    db.execute("drop index if exists idx_pubs_indicators")
    db["pubs"].create_index(["source", "scope", "status", "venue_kind", "ward_code", "closed_at", "last_crawl_id"],
                            index_name="idx_pubs_kind_indicators", if_not_exists=True)


@public
def m016_grants_input_hash(db: sqlite_utils.Database) -> None:
    # The hash of a grant's fields as built from its source: an unchanged grant is skipped before normalising and
    # geo-matching (spiders/pipelines/unchanged.py). Stores made before it gain the column here.
    if "input_hash" not in db["grants"].columns_dict:
        db["grants"].add_column("input_hash", str)


@public
def m017_download_state_content_hash(db: sqlite_utils.Database) -> None:
    # The sha256 of a file's bytes (with its licence and publisher): the same bytes again are not parsed again.
    if "content_hash" not in db["download_state"].columns_dict:
        db["download_state"].add_column("content_hash", str)


@public
def m018_orjson_content_hashes(db: sqlite_utils.Database) -> None:
    # Content hashes are now taken over orjson's canonical form (spiders/pipelines/store.py): rehash what an older
    # store holds from its stored content, so the next crawl finds unchanged records unchanged, not all changed.
    for table in RECORD_TABLES:
        rows = db.execute(f"""select r.id, min(v.data) from [{table}] r join versions v
                              on v.record_id = r.id and v.content_hash = r.content_hash group by r.id""").fetchall()
        updates = [(hashlib.sha1(orjson.dumps(json.loads(data), option=orjson.OPT_SORT_KEYS)).hexdigest(), rid)
                   for rid, data in rows if data]
        db.conn.executemany(f"update [{table}] set content_hash = ? where id = ?", updates)


@public
def m019_drop_redundant_grant_index(db: sqlite_utils.Database) -> None:
    # Every grant has the same source and scope, so (source, scope) selects nothing the (source, ...) indexes do
    # not; it only cost time on every insert. The covering indicator indexes and (source, source_url) stay.
    db.execute("drop index if exists idx_grants_source_scope")


@public
def m020_download_state_scope(db: sqlite_utils.Database) -> None:
    # A file's state is trusted only when the crawl that read it judged its scope healthy (spiders/download_state.py);
    # the register's authority files are asked for conditionally too, and a 304 touches that file's pubs by URL.
    if "scope" not in db["download_state"].columns_dict:
        db["download_state"].add_column("scope", str)
    db["pubs"].create_index(["source", "source_url"], index_name="idx_pubs_source_url", if_not_exists=True)


@public
def m021_partial_covid_grant_index(db: sqlite_utils.Database) -> None:
    # The COVID indicator reads only grants with covid = 1 (a few in a hundred): a partial index holds just those,
    # so the other grants cost it nothing when they are inserted (an index over every grant was a seventh of the
    # store's insert time). Its query says `r.covid = 1`, which lets SQLite use it; covid is a column of it too, so
    # that the query reads the index alone.
    db.execute("drop index if exists idx_grants_indicator_covid")
    db.execute("create index if not exists idx_grants_covid ON grants (source, ward_code, currency, amount, covid) "
               "where covid = 1")


@public
def m022_grants_seen(db: sqlite_utils.Database) -> None:
    # A grant listed again unchanged is marked seen in a narrow side table, not by rewriting its ~1 KB row
    # (db/seen.py): 0.17 s for 200,000 grants instead of 2.3 s.
    for name in seen.APART:
        seen.create(db, name)


@public
def m023_unresolved_grants_unhashed(db: sqlite_utils.Database) -> None:
    # A grant left unresolved because postcodes.io was unavailable has no input hash, so it is never skipped as
    # unchanged and its lookup is tried again (spiders/pipelines/geomatch.py); a file holding such a grant is read
    # again whole, even if unchanged (spiders/conditional_get.py): the partial index finds those files.
    if "input_hash" in db["grants"].columns_dict:
        db.execute("update grants set input_hash = null where ward_code is null and geo_reason like '%unavailable%' "
                   "and input_hash is not null")
        db.execute("create index if not exists idx_grants_waiting on grants (source, source_url) "
                   "where input_hash is null")


@public
def m024_provisional_index(db: sqlite_utils.Database) -> None:
    # After a healthy crawl, the rows an unhealthy one flagged are found through a partial index of the flagged
    # rows alone (monitor/changes/crawl.py): five scans of every row of the table took 0.76 s at 200,000 grants.
    for table in RECORD_TABLES:
        if db[table].exists():
            if "provisional" not in db[table].columns_dict:
                db[table].add_column("provisional", int)
            provisional_index(db, table)


@public
def m025_observation_windows(db: sqlite_utils.Database) -> None:
    # A closure, reopening or announcement is dated by its observation window: window_from is the last date the
    # source showed the place as it was, window_to the first date it showed otherwise. A library's
    # listed_state_at is the last date a healthy list showed it in its current state (the next window's start);
    # `announced` is the announcement last reported ("2024", "temporary closure"), so it is told once.
    for name in ("window_from", "window_to"):
        if name not in db["events"].columns_dict:
            db["events"].add_column(name, str)
    if db["libraries"].exists():
        for name in ("listed_state_at", "announced"):
            if name not in db["libraries"].columns_dict:
                db["libraries"].add_column(name, str)
        db.execute("update libraries set listed_state_at = last_seen_at where listed_state_at is null")


@public
def m026_postcode_directory(db: sqlite_utils.Database) -> None:
    # The local postcode directory (ONS Postcode Directory layout, db/postcode_directory.py): postcodes are placed
    # from it first, and postcodes.io is asked only about those it lacks. Each load is recorded with its counts.
    # WITHOUT ROWID: the rows live in the postcode's own B-tree, so a 2.6M-row load fills one tree, not a table and
    # an index beside it.
    db.execute("create table if not exists postcode_directory (postcode text primary key, lsoa11 text, lat real, "
               "long real, terminated text) without rowid")
    db["postcode_directory_loads"].create({
        "id": int, "loaded_at": str, "source": str, "rows": int, "loaded": int, "terminated": int,
        "no_location": int, "quarantined": int}, pk="id", if_not_exists=True)


@public
def m027_news_events_index(db: sqlite_utils.Database) -> None:
    # The left-behind feed and the ward pages list the news (no baseline, no `changed`), newest first: at the
    # national size a million baseline events were scanned and sorted for each (178 ms); through this partial
    # index, which holds the news alone, 6 ms (monitor/web/wards.py events()).
    db.execute("create index if not exists idx_events_news on events (at, id) "
               "where coalesce(baseline, 0) = 0 and kind != 'changed'")
