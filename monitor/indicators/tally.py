"""Count and sum records by ward in SQL, one GROUP BY query per distinct record condition."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlite_utils

from monitor.indicators.coverage import Coverage
from spiders.registry import Source


@dataclass
class Tally:
    """One indicator's records and numerator by ward (key None = records not resolved to a ward)."""
    records: dict[str | None, int] = field(default_factory=dict)
    numerator: dict[str | None, float] = field(default_factory=dict)
    squares: dict[str | None, float] = field(default_factory=dict)   # Σ measure², for money intervals
    excluded: int = 0


def tally_query(source: Source, condition: str, indicators, scoped: str = "") -> str:
    """Return the SQL that counts records meeting `condition` by ward, with each indicator's sum and exclusions."""
    cols = []
    for ind in indicators:
        excluded = f"sum(CASE WHEN {ind.excluded} THEN 1 ELSE 0 END)" if ind.excluded else "0"
        cols.append(f"total({ind.measure}), {excluded}, total(({ind.measure}) * ({ind.measure}))")
    return (f"SELECT r.ward_code, count(*), {', '.join(cols)} FROM [{source.table}] r "
            f"WHERE r.source = :source AND {condition}{scoped} GROUP BY r.ward_code")


def tally_source(db: sqlite_utils.Database, source: Source, cov: Coverage, params: dict,
                 indicators) -> dict[str, Tally]:
    """Tally the source's indicators by ward; indicators sharing a condition share one query (and its index)."""
    bind = dict(params, source=source.name, crawl_id=cov.crawl_id, scopes=json.dumps(cov.record_scopes or []))
    scoped = " AND r.scope IN (SELECT value FROM json_each(:scopes))" if cov.record_scopes is not None else ""
    by_condition: dict[str, list] = {}
    for ind in indicators:
        by_condition.setdefault(ind.where(source.table), []).append(ind)
    tallies = {}
    for condition, inds in by_condition.items():
        sql = tally_query(source, condition, inds, scoped)
        for ind in inds:
            tallies[ind.name] = Tally()
        for ward, n, *values in db.execute(sql, bind).fetchall():
            for k, ind in enumerate(inds):
                t = tallies[ind.name]
                t.records[ward], t.numerator[ward] = n, values[3 * k]
                t.excluded += values[3 * k + 1]
                t.squares[ward] = values[3 * k + 2]
    return tallies
