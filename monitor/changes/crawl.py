"""A judged crawl: the spider runs in a child process, then each of its scopes is judged healthy or not.

Judging belongs here, not in spiders/: health reads the history of earlier crawls, and only the monitor decides
what a crawl may change.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime

from db import seen
from db.record_tables import provisional_index
from db.store import init_public
from monitor.changes import health
from monitor.changes.closures import table_for
from spiders.crawl import crawl_in_child


@dataclass
class CrawlResult:
    crawl_id: int
    source: str
    status: str
    reason: str
    counts: dict
    scopes: list


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_crawl(source: str, db_path, settings: dict, now: str, start_url: str | None = None,
              config_path=None, timeout: float | None = None, extra_env: dict | None = None) -> CrawlResult:
    """Crawl one source in a child process, then judge its health per scope; return the result."""
    recover_stale_crawls(init_public(db_path), settings, now)
    crawl_id, crawl_error = crawl_in_child(source, db_path, settings, now, start_url=start_url,
                                           config_path=config_path, timeout=timeout, extra_env=extra_env)
    return finish_crawl(init_public(db_path), source, crawl_id, settings, now, crawl_error)


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


def recover_stale_crawls(db, settings: dict, now: str) -> list[int]:
    """Judge crawls whose process died before judging them (kill -9): unhealthy, so they change nothing."""
    if not db["crawl_runs"].exists():
        return []
    rows = db.execute("select id, source, pid from crawl_runs where finished_at is null").fetchall()
    stale = [(crawl_id, source) for crawl_id, source, pid in rows if not _alive(pid)]
    for crawl_id, source in stale:
        finish_crawl(db, source, crawl_id, settings, now,
                     "interrupted: the crawl's process died before the crawl was judged")
    return [crawl_id for crawl_id, _ in stale]


def finish_crawl(db, source: str, crawl_id: int, settings: dict, now: str, crawl_error: str | None) -> CrawlResult:
    """Judge the scopes, write scope_runs and the final crawl_runs row."""
    row = db["crawl_runs"].get(crawl_id)
    stats = json.loads(row["stats"] or "{}")
    if not crawl_error and row["status"] == "error":
        crawl_error = row["reason"]
    verdicts = health.judge(db, source, crawl_id, stats, settings, crawl_error)
    with db.conn:
        status = health.record(db, source, crawl_id, verdicts, now)
        unhealthy = [v for v in verdicts if not v.healthy]
        reason = crawl_error or "; ".join(f"{v.scope}: {v.reason}" for v in unhealthy[:5])
        counts = {
            "items": sum(v.items for v in verdicts),
            "new": int(stats.get("store/new", 0)), "changed": int(stats.get("store/changed", 0)),
            "unchanged": int(stats.get("store/unchanged", 0)),
            "quarantined": int(stats.get("validate/quarantined", 0)),
            "unresolved": int(stats.get("geo/unresolved", 0)),
        }
        db["crawl_runs"].update(crawl_id, {
            **counts, "status": status, "reason": reason, "finished_at": _utc_now(),
            "healthy_scopes": len(verdicts) - len(unhealthy), "unhealthy_scopes": len(unhealthy)})
        mark_provisional(db, source, crawl_id, verdicts)
        health.raise_failure_event(db, source, crawl_id, settings, now)
    return CrawlResult(crawl_id, source, status, reason, counts, verdicts)


def mark_provisional(db, source: str, crawl_id: int, verdicts) -> None:
    """Flag what an unhealthy scope wrote (it may be half-parsed: a truncated file's last row); when a healthy
    crawl of the scope comes, clear the flag on what it saw again and delete records that only the unhealthy
    crawl ever saw. `provisional` holds the id of the unhealthy crawl that last wrote the record."""
    table = table_for(db, source)
    if table is None or not db[table].exists():
        return
    if "provisional" not in db[table].columns_dict:
        db[table].add_column("provisional", int)
    provisional_index(db, table)
    for v in verdicts:
        if v.healthy:   # first seen in an unhealthy crawl and not confirmed now: never real (a cut-off row)
            never = (f"select r.id from [{table}] r where r.source = ? and r.scope = ? and r.provisional is not null "
                     f"and r.first_crawl_id = r.provisional and {seen.last_crawl(table)} < ?")
            params = [source, v.scope, crawl_id]
            db.execute(f"delete from versions where record_id in ({never})", params)
            seen.forget(db, table, never, params)
            db.execute(f"delete from [{table}] where id in ({never})", params)
            # Only flagged rows are read (through the partial index) and only those seen now are written: a healthy
            # crawl of a million grants, none flagged, costs nothing here.
            db.execute(f"update [{table}] as r set provisional = null where source = ? and scope = ? "
                       f"and provisional is not null and {seen.last_crawl(table)} = ?", [source, v.scope, crawl_id])
        else:
            db.execute(f"update [{table}] as r set provisional = ? where source = ? and scope = ? "
                       f"and {seen.last_crawl(table)} = ? and provisional is not ?",
                       [crawl_id, source, v.scope, crawl_id, crawl_id])
