"""The area groups the indicators compare: the one place they are defined.

- left_behind: the 225 'left behind' wards (Local Trust / OCSI, 2019).
- other_deprived: the most deprived 10% of English wards by ward IMD 2019 score, less the left-behind ones.
- england: every English ward.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

# Group name -> SQL predicate over the `wards` table (alias w). Order is the order of the report's columns.
AREA_GROUPS: dict[str, str] = {
    "left_behind": "w.left_behind = 1",
    "other_deprived": "w.most_deprived_10pc = 1 AND w.left_behind = 0",
    "england": "1 = 1",
}
GROUP_LABELS = {"left_behind": "Left behind", "other_deprived": "Other deprived", "england": "England"}


@dataclass(frozen=True)
class Ward:
    code: str
    name: str
    lad_code: str
    population: int
    groups: frozenset[str]


def load_wards(db: sqlite_utils.Database) -> dict[str, Ward]:
    """Return every ward with its population and the area groups it belongs to."""
    flags = ", ".join(f"({pred}) AS in_{name}" for name, pred in AREA_GROUPS.items())
    sql = f"SELECT w.code, w.name, w.lad_code, coalesce(w.population, 0), {flags} FROM wards w"
    wards = {}
    for row in db.execute(sql).fetchall():
        code, name, lad, pop, *member = row
        groups = frozenset(g for g, m in zip(AREA_GROUPS, member) if m)
        wards[code] = Ward(code, name, lad, pop, groups)
    return wards


def group_totals(wards: dict[str, Ward]) -> dict[str, tuple[int, int]]:
    """Return (wards, population) per area group over all wards."""
    totals = {g: [0, 0] for g in AREA_GROUPS}
    for ward in wards.values():
        for g in ward.groups:
            totals[g][0] += 1
            totals[g][1] += ward.population
    return {g: (n, p) for g, (n, p) in totals.items()}
