"""Helpers for the indicator tests: crawl runs with their scopes' health, and records put straight in the store.

Real 2017 wards with their real populations (from the bundled reference data):
Hartlepool (E06000001) 11 wards, 93,663 people; left behind: De Bruce 8,895, Headland and Harbour 8,356,
Jesmond 8,185, Manor House 11,086 (36,522); other deprived: Burn Valley 8,986, Victoria 6,184 (15,170).
Corby (E07000150) 12 wards, 72,218 people; left behind: Kingswood & Hazel Leys 7,997; other deprived: Central 4,305.
"""
from __future__ import annotations

import itertools

from spiders.registry import tables

ENGLAND_POP = 56_286_961
LEFT_BEHIND_POP = 2_386_368
OTHER_DEPRIVED_POP = 6_069_002

HARTLEPOOL = "E06000001"
HARTLEPOOL_POP, HARTLEPOOL_LB_POP, HARTLEPOOL_OD_POP = 93_663, 36_522, 15_170
DE_BRUCE, JESMOND, MANOR_HOUSE = "E05008943", "E05008948", "E05008949"     # left behind
BURN_VALLEY, VICTORIA = "E05008942", "E05008952"                           # other deprived
HART = "E05008946"                                                          # neither
CORBY = "E07000150"
CORBY_POP = 72_218
KINGSWOOD, CORBY_CENTRAL, LLOYDS = "E05010267", "E05010265", "E05010268"

_refs = itertools.count(1)

TABLES = tables()   # source -> record table, from the source registry


def crawl(db, source: str, scopes: dict[str, bool], at: str = "2024-06-01T05:00:00") -> int:
    """Record a finished crawl of `source` with the health of each scope; return its id."""
    healthy = sum(scopes.values())
    crawl_id = db["crawl_runs"].insert({
        "source": source, "scope": source, "started_at": at, "finished_at": at, "now": at,
        "status": "ok" if healthy == len(scopes) else "unhealthy", "healthy_scopes": healthy,
        "unhealthy_scopes": len(scopes) - healthy}).last_pk
    for scope, ok in scopes.items():
        db["scope_runs"].insert({"crawl_id": crawl_id, "source": source, "scope": scope, "items": 10,
                                 "errors": 0 if ok else 1, "healthy": int(ok),
                                 "reason": "" if ok else "HTTP 500", "at": at})
    return crawl_id


def record(db, source: str, ward_code: str | None, crawl_id: int, scope: str | None = None, **fields) -> str:
    """Store one record of `source` resolved to `ward_code` (None = unresolved), last seen in `crawl_id`."""
    ref = str(next(_refs))
    row = {"id": f"{source}:{ref}", "source": source, "ref": ref, "scope": scope or source, "name": f"record {ref}",
           "ward_code": ward_code, "status": "open", "first_crawl_id": crawl_id, "last_crawl_id": crawl_id,
           "geo_reason": None if ward_code else "no location"}
    if source == "fhrs_pubs":
        row["venue_kind"] = "pub"
    row.update(fields)
    db[TABLES[source]].insert(row, alter=True)
    return row["id"]


def by_key(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["indicator"], r["area_group"]): r for r in rows}
