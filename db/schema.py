"""The public database's schema, as migrations. Nothing personal is stored here.

These are the tables every store has; each record table (groups, grants, pubs...) is its source's, with its own
migrations in its source's folder (db/record_tables.py runs them after these).
"""
from __future__ import annotations

import sqlite_utils

from db import record_tables
from db.migrations import Migrations
from db.record_tables import RECORD_COLUMNS

public = Migrations("public")
__all__ = ["RECORD_COLUMNS", "migrate", "public"]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Run the public steps not yet applied, then each record table's; return the names of those that ran."""
    return public.apply(db) + record_tables.migrate(db)


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
def m003_versions(db: sqlite_utils.Database) -> None:
    # Every record table's versions, in one table (a store made before the record tables had their own steps made
    # it in m003_records).
    db["versions"].create({
        "id": int, "record_id": str, "record_table": str, "crawl_id": int, "at": str, "content_hash": str,
        "data": str,
    }, pk="id", if_not_exists=True)
    db["versions"].create_index(["record_id"], if_not_exists=True)
    db["versions"].create_index(["crawl_id"], if_not_exists=True)


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
def m007_download_state(db: sqlite_utils.Database) -> None:
    # HTTP validators of each downloaded file (360Giving publishers' files), for conditional GETs next time.
    db["download_state"].create({
        "url": str, "etag": str, "last_modified": str, "registry_modified": str, "crawl_id": int, "grants": int,
    }, pk="url")


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
    # (The venues' successor links are their tables' own step of the same name.)
    for name, kind in (("backfill", int), ("closed_on", str)):
        if name not in db["events"].columns_dict:
            db["events"].add_column(name, kind)


@public
def m017_download_state_content_hash(db: sqlite_utils.Database) -> None:
    # The sha256 of a file's bytes (with its licence and publisher): the same bytes again are not parsed again.
    if "content_hash" not in db["download_state"].columns_dict:
        db["download_state"].add_column("content_hash", str)


@public
def m020_download_state_scope(db: sqlite_utils.Database) -> None:
    # A file's state is trusted only when the crawl that read it judged its scope healthy (spiders/download_state.py);
    # the register's authority files are asked for conditionally too, and a 304 touches that file's pubs by URL.
    if "scope" not in db["download_state"].columns_dict:
        db["download_state"].add_column("scope", str)


@public
def m025_observation_windows(db: sqlite_utils.Database) -> None:
    # A closure, reopening or announcement is dated by its observation window: window_from is the last date the
    # source showed the place as it was, window_to the first date it showed otherwise. A library's
    # listed_state_at is the last date a healthy list showed it in its current state (the next window's start);
    # `announced` is the announcement last reported ("2024", "temporary closure"), so it is told once.
    for name in ("window_from", "window_to"):
        if name not in db["events"].columns_dict:
            db["events"].add_column(name, str)


@public
def m026_postcode_directory(db: sqlite_utils.Database) -> None:
    # The local postcode directory (ONS Postcode Directory layout, geo/postcode_directory.py): postcodes are placed
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
