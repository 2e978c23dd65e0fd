"""Read stored indicator computations back: history is a query over `indicators`."""
from __future__ import annotations

import json

import sqlite_utils

from monitor.indicators.area_groups import AREA_GROUPS
from monitor.indicators.compute import INDICATORS

ROW_KEYS = ("indicator", "area_group", "numerator", "population", "value", "ci_low", "ci_high", "reliable", "note",
            "coverage", "computed_at")


def computation_times(db: sqlite_utils.Database) -> list[str]:
    """Return every stored computation's time, oldest first."""
    return [r[0] for r in db.execute("SELECT DISTINCT computed_at FROM indicators ORDER BY computed_at")]


def latest_computed_at(db: sqlite_utils.Database, at: str | None = None) -> str | None:
    """Return the latest computation time at or before `at` (a date counts to its end), or the latest of all."""
    if at is None:
        return db.execute("SELECT max(computed_at) FROM indicators").fetchone()[0]
    # Compare at the precision `at` was given in, so a bare date includes computations later that day.
    return db.execute("SELECT max(computed_at) FROM indicators WHERE substr(computed_at, 1, length(:at)) <= :at",
                      {"at": at}).fetchone()[0]


def rows_at(db: sqlite_utils.Database, computed_at: str) -> list[dict]:
    """Return the rows of one computation in report order, coverage parsed."""
    order = {(i.name, g): k for k, (i, g) in enumerate((i, g) for i in INDICATORS for g in AREA_GROUPS)}
    rows = []
    for r in db["indicators"].rows_where("computed_at = ?", [computed_at]):
        r = dict(r, coverage=json.loads(r["coverage"]) if r["coverage"] else {})
        rows.append(r)
    rows.sort(key=lambda r: order.get((r["indicator"], r["area_group"]), len(order)))
    return rows


def series(db: sqlite_utils.Database, indicator: str, area_group: str) -> list[tuple[str, float | None]]:
    """Return (computed_at, value) of one indicator and group over time, oldest first."""
    return [tuple(r) for r in db.execute(
        "SELECT computed_at, value FROM indicators WHERE indicator = ? AND area_group = ? ORDER BY computed_at",
        [indicator, area_group])]


def public_row(row: dict) -> dict:
    """Return a row with exactly the keys the JSON output promises."""
    out = {k: row.get(k) for k in ROW_KEYS}
    if out["reliable"] is not None:
        out["reliable"] = bool(out["reliable"])   # stored as 0/1
    return out
