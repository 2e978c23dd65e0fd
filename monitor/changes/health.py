"""Crawl health per scope: only a healthy crawl of a scope may mark its records missing.

A scope is healthy when it was fetched and parsed without error and its item count is at least
`health_min_share` of the median of its last `health_window` healthy crawls (a scope with no history needs
at least one item). A scope the source served before but that is absent now counts as 0 items.
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass

import sqlite_utils

from db import seen
from monitor.changes.closures import table_for
from spiders import registry


@dataclass
class ScopeHealth:
    scope: str
    items: int
    errors: int
    healthy: bool
    reason: str


def scope_counts(stats: dict) -> dict[str, dict[str, int]]:
    """Collect items, errors and reasons per scope from the crawl stats."""
    scopes: dict[str, dict] = {}
    for key, value in stats.items():
        if not key.startswith("scope/"):
            continue
        scope, _, what = key[len("scope/"):].rpartition("/")
        entry = scopes.setdefault(scope, {"items": 0, "errors": 0, "reason": ""})
        if what in ("items", "errors"):
            entry[what] = int(value)
        elif what == "reason":
            entry["reason"] = str(value)
    return scopes


def _history(db: sqlite_utils.Database, source: str, scope: str, before_crawl: int, window: int) -> list[int]:
    rows = db.execute(
        "select items from scope_runs where source = ? and scope = ? and healthy = 1 and crawl_id < ? "
        "order by crawl_id desc limit ?", [source, scope, before_crawl, window]).fetchall()
    return [r[0] for r in rows]


def known_scopes(db: sqlite_utils.Database, source: str, before_crawl: int) -> set[str]:
    rows = db.execute("select distinct scope from scope_runs where source = ? and healthy = 1 and crawl_id < ?",
                      [source, before_crawl]).fetchall()
    return {r[0] for r in rows}


def judge(db, source: str, crawl_id: int, stats: dict, settings: dict, crawl_error: str | None) -> list[ScopeHealth]:
    """Judge every scope of a finished crawl."""
    counts = scope_counts(stats)
    for scope in known_scopes(db, source, crawl_id) - set(counts):
        counts[scope] = {"items": 0, "errors": 0, "reason": "absent from this crawl"}
    if not counts:
        counts[source] = {"items": 0, "errors": 0, "reason": ""}
    unattributed = int(stats.get("spider_exceptions/count", 0))
    lost = int(stats.get("item_errors/count", 0))   # batches of records a pipeline dropped (spiders/item_errors.py)
    share, window = settings["health_min_share"], settings["health_window"]
    out = []
    for scope, c in sorted(counts.items()):
        history = _history(db, source, scope, crawl_id, window)
        median = statistics.median(history) if history else None
        reason = ""
        if crawl_error:
            reason = crawl_error
        elif c["errors"]:
            reason = c["reason"] or f"{c['errors']} errors"
        elif unattributed:
            reason = f"{unattributed} parse errors in the crawl"
        elif lost:
            reason = f"{lost} items lost to errors while storing them"
        elif c["items"] == 0:
            reason = c["reason"] or "no items"
        elif median and c["items"] < share * median:
            reason = f"{c['items']} items, under {share:.0%} of the median {median:g} of recent healthy crawls"
        else:
            reason = _overlap_reason(db, source, scope, crawl_id, share)
        out.append(ScopeHealth(scope, c["items"], c["errors"], not reason, reason))
    return out


def _overlap_reason(db, source: str, scope: str, crawl_id: int, share: float) -> str:
    """For sources that close venues by absence: a healthy scope lists again most of the venues it had open.

    Counts alone are fooled by a file of the same size that lists other venues (another authority's file, a
    renumbered register): then every known venue looks absent and would close.
    """
    registered = registry.source(source)
    table = table_for(db, source)
    if not (registered and registered.overlap_checked) or not db[table].exists():
        return ""
    # Records only an unhealthy crawl ever wrote (a renumbered file's ids) were never known: counted, they would
    # keep the scope unhealthy for good once its real file is back (monitor/changes/crawl.py mark_provisional).
    never_confirmed = ("and not (r.provisional is not null and r.first_crawl_id = r.provisional)"
                       if "provisional" in db[table].columns_dict else "")
    known, listed = db.execute(
        f"select count(*), coalesce(sum({seen.last_crawl(table)} = ?), 0) from [{table}] r where r.source = ? "
        f"and r.scope = ? and coalesce(r.status, 'open') = 'open' and r.first_crawl_id < ? {never_confirmed}",
        [crawl_id, source, scope, crawl_id]).fetchone()
    if known >= 5 and listed < share * known:
        return f"only {listed} of the {known} open venues known in {scope} were listed (under {share:.0%})"
    return ""


def record(db, source: str, crawl_id: int, verdicts: list[ScopeHealth], now: str) -> str:
    """Write scope_runs rows and return the crawl status: ok, partial or failed."""
    db["scope_runs"].insert_all([
        {"crawl_id": crawl_id, "source": source, "scope": v.scope, "items": v.items, "errors": v.errors,
         "healthy": int(v.healthy), "reason": v.reason, "at": now} for v in verdicts], pk="id")
    healthy = sum(v.healthy for v in verdicts)
    return "ok" if healthy == len(verdicts) else "partial" if healthy else "failed"


def raise_failure_event(db, source: str, crawl_id: int, settings: dict, now: str) -> bool:
    """After M consecutive failed crawls of a source, raise one `source_failing` event for the operator."""
    if source in registry.frozen(settings):   # its publisher stopped: nothing for the operator to fix
        return False
    m = settings["failure_alert_after"]
    statuses = [r[0] for r in db.execute(
        "select status from crawl_runs where source = ? and id <= ? order by id desc limit ?",
        [source, crawl_id, m + 1]).fetchall()]
    streak = 0
    for status in statuses:
        if status != "failed":
            break
        streak += 1
    if streak != m:   # once per streak, when it reaches M
        return False
    reasons = [r[0] for r in db.execute("select reason from crawl_runs where source = ? and id <= ? "
                                        "order by id desc limit ?", [source, crawl_id, m]).fetchall()]
    db["events"].insert({"kind": "source_failing", "source": source, "record_id": None, "ref": source,
                         "name": f"{source}: {m} failed crawls in a row", "ward_code": None, "lad_code": None,
                         "at": now, "crawl_id": crawl_id, "baseline": 0,
                         "evidence": json.dumps({"failed_crawls": m, "reasons": reasons})}, pk="id")
    return True
