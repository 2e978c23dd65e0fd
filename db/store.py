"""Open, create and migrate the two databases; load the bundled reference geography."""
from __future__ import annotations

import csv
import os
import sqlite3
from pathlib import Path

import sqlite_utils

from core.errors import StoreError
from db.private_schema import private
from db.schema import migrate

REFERENCE = Path(__file__).parent / "reference"
REFERENCE_TABLES = {
    "wards": ("wards.csv", "code"),
    "lsoas": ("lsoas.csv", "code"),
    "ward_aliases": ("ward_aliases.csv", "code"),
}
_INT = {"population", "left_behind", "most_deprived_10pc", "other_deprived", "imd_decile"}
_FLOAT = {"imd_score", "cni_score", "civic_assets_score", "connectedness_score", "engaged_community_score"}
BUSY_SECONDS = 30   # how long a write waits for another process's write lock before giving up (LBM_DB_BUSY_SECONDS)


def busy_seconds() -> int:
    """Return how long a write waits for a lock: LBM_DB_BUSY_SECONDS when set to a whole number of seconds."""
    value = os.environ.get("LBM_DB_BUSY_SECONDS", "")
    return int(value) if value.isdigit() and int(value) > 0 else BUSY_SECONDS


def connect(path: str | Path, create: bool = True) -> sqlite_utils.Database:
    """Open a database file in WAL mode with a busy timeout; create it and its folder only when asked."""
    path = Path(path)
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the folder of database {path}: {e.strerror}") from None
    _check_file(path, create)
    try:
        db = sqlite_utils.Database(path)
        db.execute(f"PRAGMA busy_timeout = {busy_seconds() * 1000}")
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")   # with WAL: safe from corruption, no fsync on every commit
        db.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as e:
        if "not a database" in str(e):
            raise StoreError(f"{path} is not an SQLite database") from None
        raise store_error(e, path) from None
    return db


def _check_file(path: Path, create: bool) -> None:
    """Refuse, in one sentence, a database that is missing (unless it may be created), unreadable or not SQLite."""
    if not path.exists():
        if create:
            return
        raise StoreError(f"database {path} does not exist: give the right --db or --private-db, or create it with "
                         "`run.py init`")
    if path.is_dir():
        raise StoreError(f"database {path} is a folder, not a file")
    # Never open the file here: closing any descriptor of it would cancel the POSIX locks this process's open
    # connections hold on it, and another process could then delete the WAL under them (tests/test_store_locks.py).
    # SQLite itself says when a file is not a database.
    if not os.access(path, os.R_OK):
        raise StoreError(f"database {path} cannot be read: Permission denied")


def store_error(e: sqlite3.Error, path: str | Path | None = None) -> StoreError:
    """Return the one sentence a person needs for an SQLite error (full, locked, read-only, not a database)."""
    what = f"database {path}" if path else "the database"
    text = str(e)
    if "full" in text:
        return StoreError(f"{what} could not be written: the disk is full (or the database reached its size limit); "
                          "nothing more was saved, free some space and run the command again")
    if "locked" in text or "busy" in text:
        return StoreError(f"{what} is locked: another process held its write lock for over "
                          f"{busy_seconds()} s, so nothing was written; run the command again when it ends")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(f"{what} cannot be used: {_unwritable(Path(path)) if path else 'it is read-only'}")
    if "not a database" in text:
        return StoreError(f"{what} is not an SQLite database")
    if "malformed" in text:
        return StoreError(f"{what} is damaged (SQLite: {text}): restore it from a copy, or make a new one with "
                          "`run.py init` and crawl again")
    return StoreError(f"{what}: SQLite error: {text}")


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


def _unwritable(path: Path) -> str:
    if not os.access(path.parent, os.W_OK):
        # Even to read, SQLite keeps its -wal and -shm files beside a WAL database.
        return f"its folder {path.parent} cannot be written (SQLite needs to write there even to read)"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    return "its file or its folder cannot be read or written"


def init_public(path: str | Path, create: bool = True) -> sqlite_utils.Database:
    """Create (or, with create=False, only open) and migrate the public database, loading reference data."""
    db = connect(path, create)
    try:
        migrate(db)
        load_reference(db)
    except sqlite3.Error as e:
        raise store_error(e, path) from None
    return db


def init_private(path: str | Path, create: bool = True) -> sqlite_utils.Database:
    """Create (or, with create=False, only open) and migrate the private database; idempotent."""
    db = connect(path, create)
    try:
        private.apply(db)
    except sqlite3.Error as e:
        raise store_error(e, path) from None
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
