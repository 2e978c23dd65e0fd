"""Which wards a source looked at: the healthy scopes of its latest healthy crawl, mapped to wards.

A rate is never computed over wards the source did not look at. A source whose scope is the whole source
(mutual aid groups, 360Giving) covers every English ward once it has a healthy crawl. A source whose scopes are
local authorities (a spider with scope_kind "authority": FHRS pubs) covers the wards of the authorities that
were healthy in that crawl; an authority that was unhealthy there is left out, even where a healthy neighbour's
records spill over its border.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

import sqlite_utils

from spiders import registry
from spiders.registry import Source


def counted_sources() -> dict[str, Source]:
    """Return the sources whose records indicators count (not news), as their spiders declare them."""
    return {name: s for name, s in registry.sources().items() if s.counted}


# A scope (an authority's name as the source spells it) is mapped to the local authority districts that hold at
# least this share of its ward-resolved records, so that a few pubs geocoded across a border do not make the
# neighbouring district count as covered, while an authority formed by merging districts maps to all of them.
SCOPE_LAD_MIN_SHARE = 0.1


@dataclass
class Coverage:
    source: str
    crawl_id: int | None = None                 # latest crawl with at least one healthy scope
    wards: frozenset[str] | None = None         # covered ward codes; None means every ward
    record_scopes: list[str] | None = None      # only records of these scopes count; None means all scopes
    counters: dict[str, int] = field(default_factory=dict)
    archived: str = ""                          # a frozen source: "as of DATE (archived listing)"

    @property
    def has_data(self) -> bool:
        return self.crawl_id is not None

    def covers(self, ward_code: str) -> bool:
        return self.has_data and (self.wards is None or ward_code in self.wards)

    def note(self) -> str:
        if not self.has_data:
            return f"no data: {self.source} has no healthy crawl"
        where = "all England" if self.wards is None else "healthy authorities only"
        extra = ", ".join(f"{k} {v}" for k, v in sorted(self.counters.items()) if v)
        archived = f"; {self.archived}" if self.archived else ""
        return f"{self.source} crawl {self.crawl_id}: {where}" + (f"; {extra}" if extra else "") + archived


def latest_healthy_crawl(db: sqlite_utils.Database, source: str) -> int | None:
    """Return the id of the source's latest crawl that had at least one healthy scope."""
    row = db.execute("SELECT max(crawl_id) FROM scope_runs WHERE source = ? AND healthy = 1", [source]).fetchone()
    return row[0]


def scope_health(db: sqlite_utils.Database, source: str, crawl_id: int) -> tuple[list[str], list[str]]:
    """Return (healthy scopes, unhealthy scopes) of one crawl; a scope run twice counts as its last run."""
    last: dict[str, int] = {}
    for scope, healthy in db.execute(
            "SELECT scope, healthy FROM scope_runs WHERE source = ? AND crawl_id = ? ORDER BY id",
            [source, crawl_id]).fetchall():
        last[scope] = healthy
    return sorted(s for s, h in last.items() if h), sorted(s for s, h in last.items() if not h)


def scope_districts(db: sqlite_utils.Database, source: Source, scopes: list[str]) -> dict[str, set[str]]:
    """Map each scope to the local authority districts that hold its records (see SCOPE_LAD_MIN_SHARE)."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for scope, lad, n in db.execute(f"""
            SELECT r.scope, w.lad_code, count(*) FROM [{source.table}] r JOIN wards w ON w.code = r.ward_code
            WHERE r.source = ? AND r.scope IN (SELECT value FROM json_each(?))
            GROUP BY r.scope, w.lad_code""", [source.name, json.dumps(scopes)]).fetchall():
        counts[scope][lad] = n
    out = {}
    for scope, by_lad in counts.items():
        total = sum(by_lad.values())
        out[scope] = {lad for lad, n in by_lad.items() if n >= SCOPE_LAD_MIN_SHARE * total}
    return out


def source_coverage(db: sqlite_utils.Database, source: Source, wards_by_lad: dict[str, set[str]]) -> Coverage:
    """Return what the source covered in its latest healthy crawl."""
    crawl_id = latest_healthy_crawl(db, source.name)
    if crawl_id is None:
        return Coverage(source.name)
    healthy, unhealthy = scope_health(db, source.name, crawl_id)
    counters = {"healthy_scopes": len(healthy), "unhealthy_scopes": len(unhealthy)}
    if not source.by_authority or source.name in healthy:
        return Coverage(source.name, crawl_id, None, None, counters)
    districts = scope_districts(db, source, healthy + unhealthy)
    counters["unmapped_scopes"] = sum(1 for s in healthy if not districts.get(s))
    good = set().union(*(districts.get(s, set()) for s in healthy))
    bad = set().union(*(districts.get(s, set()) for s in unhealthy))
    counters["districts_excluded_unhealthy"] = len(good & bad)
    covered = good - bad
    counters["districts"] = len(covered)
    wards = frozenset(code for lad in covered for code in wards_by_lad.get(lad, ()))
    return Coverage(source.name, crawl_id, wards, healthy, counters)
