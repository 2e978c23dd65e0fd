"""Open, create and migrate the two databases; load the bundled reference geography."""
from __future__ import annotations

import csv
from pathlib import Path

import sqlite_utils

from db.private_schema import private
from db.schema import public

REFERENCE = Path(__file__).parent / "reference"
REFERENCE_TABLES = {
    "wards": ("wards.csv", "code"),
    "lsoas": ("lsoas.csv", "code"),
    "ward_aliases": ("ward_aliases.csv", "code"),
}
_INT = {"population", "left_behind", "most_deprived_10pc", "other_deprived", "imd_decile"}
_FLOAT = {"imd_score", "cni_score", "civic_assets_score", "connectedness_score", "engaged_community_score"}


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open a database file in WAL mode with a busy timeout, creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA busy_timeout = 30000")
    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        db.enable_wal()
    db.execute("PRAGMA synchronous = NORMAL")   # with WAL: safe from corruption, no fsync on every commit
    db.execute("PRAGMA foreign_keys = ON")
    return db


def _typed(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        if v == "":
            out[k] = None
        elif k in _INT:
            out[k] = int(v)
        elif k in _FLOAT:
            out[k] = float(v)
        else:
            out[k] = v
    return out


def load_reference(db: sqlite_utils.Database) -> dict[str, int]:
    """Load the bundled reference tables when they are empty; return rows loaded per table."""
    loaded = {}
    for table, (filename, pk) in REFERENCE_TABLES.items():
        if db[table].count:
            continue
        with open(REFERENCE / filename, newline="", encoding="utf-8") as f:
            rows = [_typed(r) for r in csv.DictReader(f)]
        db[table].insert_all(rows, pk=pk, batch_size=5000)
        loaded[table] = len(rows)
    return loaded


def init_public(path: str | Path) -> sqlite_utils.Database:
    """Create or migrate the public database and load reference data; idempotent."""
    db = connect(path)
    public.apply(db)
    load_reference(db)
    return db


def init_private(path: str | Path) -> sqlite_utils.Database:
    """Create or migrate the private database; idempotent."""
    db = connect(path)
    private.apply(db)
    return db


def left_behind_wards(db: sqlite_utils.Database) -> int:
    """Return how many wards the reference data marks as left behind (225 in the 2019 list)."""
    return db.execute("select count(*) from wards where left_behind").fetchone()[0]


def ward_summary(db: sqlite_utils.Database) -> dict:
    """Count wards and people per area group, for people to check the reference data."""
    row = db.execute("""
        select count(*), sum(population), sum(left_behind), sum(case when left_behind then population end),
               sum(other_deprived), sum(case when other_deprived then population end)
        from wards""").fetchone()
    return {"wards": row[0], "population": row[1], "left_behind_wards": row[2], "left_behind_population": row[3],
            "other_deprived_wards": row[4], "other_deprived_population": row[5]}
