"""The local postcode directory: the ONS Postcode Directory's CSV layout, loaded a batch at a time, and its lookups.

Columns read, by name as ONSPD publishes them (others are ignored): `pcds` the postcode, `lsoa11` its 2011 LSOA,
`lat` and `long` its point, `doterm` the month it was terminated (empty while it is live). ONSPD writes
99.999999 / 0.000000 for a postcode it cannot place: that is no point, not a place in the sea. A terminated
postcode is kept with where it last was, so an old address still resolves. A row that cannot be read (no valid
postcode, coordinates that are not numbers or are outside the UK, a date that is not one) is counted and kept in
`quarantine` (the first QUARANTINE_KEPT of them), never loaded. The file is streamed: a national file of 2.6M rows
loads in bounded memory. A load replaces the whole directory in one transaction, so readers see the old one or
the new one.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import operator
import re
import sqlite3
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from core.errors import InputError
from db.postcodes import POSTCODE_RE, normalise_postcode

TABLE = "postcode_directory"
SOURCE = "postcode_directory"
BATCH = 20_000              # rows per executemany
QUARANTINE_KEPT = 1_000     # malformed rows kept with their reason; every one is counted
MAX_ROWS = 5_000_000        # ONSPD has about 2.7M; more is not a postcode directory
NO_LAT, NO_LONG = 99.999999, 0.0          # ONSPD's "no grid reference" placeholder
LAT_RANGE, LONG_RANGE = (49.0, 61.5), (-9.0, 3.0)   # the UK, the Channel Islands and the Isle of Man
REQUIRED = ("pcds", "lsoa11", "lat", "long", "doterm")
_LSOA = re.compile(r"[A-Z0-9]{5,9}\Z")
_DOTERM = re.compile(r"(\d{4})-?(\d{2})")     # ONSPD's YYYYMM; NSPL extracts give an ISO date


def _point(lat: str, lng: str) -> tuple[float | None, float | None]:
    """Return (lat, long), (None, None) for ONSPD's placeholder or empty cells; ValueError when unreadable."""
    lat, lng = (lat or "").strip(), (lng or "").strip()
    if not lat and not lng:
        return None, None
    y, x = float(lat), float(lng)
    if abs(y - NO_LAT) < 1e-6 and abs(x - NO_LONG) < 1e-6:
        return None, None
    if not (LAT_RANGE[0] <= y <= LAT_RANGE[1] and LONG_RANGE[0] <= x <= LONG_RANGE[1]):
        raise ValueError("coordinates outside the UK")
    return y, x


def parse_row(pcds: str, lsoa11: str, lat: str, lng: str, doterm: str) -> tuple[tuple | None, str | None]:
    """Return ((postcode, lsoa11, lat, long, terminated), None) for a good row, or (None, the reason)."""
    # ONSPD's pcds is already in the canonical form: checking that is a third of the cost of normalising it.
    postcode = pcds if POSTCODE_RE.match(pcds) else normalise_postcode(pcds)
    if not postcode:
        return None, "invalid postcode"
    lsoa = (lsoa11 or "").strip().upper() or None
    if lsoa and not _LSOA.match(lsoa):
        return None, "invalid LSOA code"
    try:
        lat, lng = _point(lat, lng)
    except ValueError as e:
        return None, str(e) if "outside" in str(e) else "coordinates are not numbers"
    doterm = (doterm or "").strip()
    terminated = None
    if doterm:
        m = _DOTERM.match(doterm)
        if not m or not 1 <= int(m.group(2)) <= 12:
            return None, "invalid termination date"
        terminated = f"{m.group(1)}-{m.group(2)}"
    return (postcode, lsoa, lat, lng, terminated), None


@contextmanager
def open_text(path: Path) -> Iterator[io.TextIOBase]:
    """Open a directory file as text, streamed: a .csv, a .csv.gz, or ONSPD's .zip (its one big Data/ CSV)."""
    with open(path, "rb") as raw:
        magic = raw.read(4)
    if magic[:2] == b"\x1f\x8b":
        with gzip.open(path, "rt", encoding="utf-8-sig", newline="", errors="replace") as f:
            yield f
    elif magic == b"PK\x03\x04":
        with zipfile.ZipFile(path) as z:
            csvs = [i for i in z.infolist() if i.filename.lower().endswith(".csv")]
            if not csvs:
                raise InputError(f"{path.name} is a zip file without a CSV in it")
            biggest = max(csvs, key=lambda i: i.file_size)      # ONSPD's Data/ONSPD_<month>_UK.csv
            with z.open(biggest) as member:
                yield codecs.getreader("utf-8-sig")(member, errors="replace")
    else:
        with open(path, encoding="utf-8-sig", newline="", errors="replace") as f:
            yield f


def _rows(f) -> Iterator[tuple[str, ...]]:
    """Yield the REQUIRED cells of each row, picked by the header's names (ONSPD has 50-odd columns).

    A row with fewer cells than the header (a file cut short) yields its cells padded and marked in a sixth."""
    reader = csv.reader(f)
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"the postcode directory has no {', '.join(missing)} column (ONSPD's layout is needed)")
    pick = operator.itemgetter(*(header.index(c) for c in REQUIRED))
    width = len(header)
    for row in reader:
        if len(row) < width:
            yield (*pick(row + [""] * (width - len(row))), "short")
        else:
            yield pick(row)


_UPSERT = (f"insert into {TABLE} (postcode, lsoa11, lat, long, terminated) values (?, ?, ?, ?, ?) "
           # a postcode listed twice: a live row wins over a terminated one, else the later row
           f"on conflict (postcode) do update set lsoa11 = excluded.lsoa11, lat = excluded.lat, "
           f"long = excluded.long, terminated = excluded.terminated "
           f"where {TABLE}.terminated is not null or excluded.terminated is null")


def load_directory(db: sqlite_utils.Database, path: Path, now: str, source_name: str | None = None) -> Counter:
    """Replace the postcode directory with the rows of a file; return counts (rows, loaded, terminated, ...)."""
    shown = source_name or Path(path).name
    try:
        return _load(db, Path(path), now, shown)
    except (csv.Error, EOFError, gzip.BadGzipFile, zipfile.BadZipFile, zlib.error) as e:
        # A file cut short or not what it says it is: the transaction is rolled back, the old directory stays.
        raise InputError(f"{shown} could not be read as a postcode directory: {e}") from None


def _load(db: sqlite_utils.Database, path: Path, now: str, shown: str) -> Counter:
    counts: Counter[str] = Counter()
    quarantined: list[dict] = []
    with open_text(path) as f, db.conn:
        db.execute(f"delete from {TABLE}")
        batch: list[tuple] = []
        for row in _rows(f):
            counts["rows"] += 1
            if counts["rows"] > MAX_ROWS:
                raise InputError(f"{shown} has more than {MAX_ROWS:,} rows: not a postcode directory")
            parsed, reason = parse_row(*row[:5]) if len(row) == 5 else (None, "fewer cells than the header")
            if parsed is None:
                counts["quarantined"] += 1
                counts[f"quarantined/{reason}"] += 1
                if len(quarantined) < QUARANTINE_KEPT:
                    raw = {k: v[:200] for k, v in zip(REQUIRED, row)}
                    quarantined.append({"source": SOURCE, "ref": row[0][:20], "reason": reason,
                                        "raw": json.dumps(raw, ensure_ascii=False), "at": now})
                continue
            counts["terminated"] += parsed[4] is not None
            counts["no_location"] += parsed[1] is None and parsed[2] is None
            batch.append(parsed)
            if len(batch) >= BATCH:
                db.conn.executemany(_UPSERT, batch)
                batch.clear()
        db.conn.executemany(_UPSERT, batch)
        # Plain SQL, not sqlite-utils' insert: that commits, and the load is one transaction.
        db.conn.executemany("insert into quarantine (source, ref, reason, raw, at) "
                            "values (:source, :ref, :reason, :raw, :at)", quarantined)
        counts["loaded"] = db.execute(f"select count(*) from {TABLE}").fetchone()[0]
        db.conn.execute("insert into postcode_directory_loads (loaded_at, source, rows, loaded, terminated, "
                        "no_location, quarantined) values (?, ?, ?, ?, ?, ?, ?)",
                        [now, shown[:300], *(counts[k] for k in ("rows", "loaded", "terminated", "no_location",
                                                                 "quarantined"))])
    return counts


def directory_rows(conn, postcodes: list[str]) -> dict[str, tuple]:
    """Return {postcode: (lsoa11, lat, long, terminated)} for the normalised postcodes the directory holds."""
    found: dict[str, tuple] = {}
    for i in range(0, len(postcodes), 500):
        chunk = postcodes[i:i + 500]
        rows = conn.execute(f"select postcode, lsoa11, lat, long, terminated from {TABLE} "
                            f"where postcode in ({','.join('?' * len(chunk))})", chunk).fetchall()
        found.update({r[0]: tuple(r[1:]) for r in rows})
    return found


def directory_ward(conn, postcode: str) -> tuple[bool, str | None]:
    """Return (whether the directory holds the postcode, its 2017 ward or None), by its LSOA, else its point."""
    try:
        row = conn.execute(f"select d.lsoa11, l.ward_code, d.lat, d.long from {TABLE} d "
                           f"left join lsoas l on l.code = d.lsoa11 where d.postcode = ?", [postcode]).fetchone()
    except sqlite3.OperationalError:    # a database made before the directory existed: ask the service
        return False, None
    if row is None:
        return False, None
    lsoa, ward, lat, lng = row
    if ward or lat is None or lng is None:
        return True, ward
    from db.geography import ward_index
    return True, ward_index().locate([lat], [lng])[0]
