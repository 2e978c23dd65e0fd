"""Benchmark: recompute every indicator over 1,000,000 grants, 50,000 pubs, 4,000 libraries and 5,000 groups.

Run: python -m bench.bench_indicators [--grants N] [--repeat K]
Builds a store in a temporary folder (records spread over the real 2017 wards, pubs scoped by local authority
with a few unhealthy ones), then times `compute_and_store`. Target: under 2 seconds.
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from core.config import defaults
from db.store import init_public
from monitor.indicators.compute import compute_and_store

TARGET_SECONDS = 2.0
NOW = "2024-06-30T07:00:00"


def add_crawl(db, source: str, scopes: dict[str, bool]) -> int:
    """Record one crawl of `source` with each scope's health; return its id."""
    crawl_id = db["crawl_runs"].insert({"source": source, "scope": source, "started_at": NOW, "status": "ok"}).last_pk
    db["scope_runs"].insert_all({"crawl_id": crawl_id, "source": source, "scope": s, "healthy": int(ok), "at": NOW}
                                for s, ok in scopes.items())
    return crawl_id


def rows(source: str, first: int, n: int, wards: list[tuple], rnd: random.Random, crawl_id: int, extra) -> list[tuple]:
    """Return n record rows (id, source, ref, scope, ward_code, status, closed_at, last_crawl_id, *extra)."""
    out = []
    for i in range(first, first + n):
        code, lad_name = wards[rnd.randrange(len(wards))]
        ward = None if rnd.random() < 0.03 else code          # a few unresolved, as in real data
        scope = lad_name if source == "fhrs_pubs" else source
        status, closed_at = ("closed", f"20{rnd.randint(10, 24)}-0{rnd.randint(1, 9)}-15") \
            if rnd.random() < 0.1 else ("open", None)
        out.append((f"{source}:{i}", source, str(i), scope, ward, status, closed_at, crawl_id, *extra(rnd)))
    return out


def grant_extra(rnd: random.Random) -> tuple:
    year = rnd.randint(2015, 2024)
    return (round(rnd.uniform(500, 50_000), 2), "GBP" if rnd.random() < 0.95 else "USD",
            f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
            int(year in (2020, 2021) and rnd.random() < 0.3))


def venue_kind_extra(rnd: random.Random) -> tuple:
    # About the mix the rules find in the demo's five authorities (1,401 venues: 73% pubs and bars, 16% clubs).
    return (rnd.choices(("pub", "bar", "members_club", "sports_club", "other"), (63, 10, 16, 8, 3))[0],)


def build(path: Path, n_grants: int, seed: int = 7):
    """Create the benchmark store at `path`."""
    db = init_public(path)
    db.execute("PRAGMA synchronous = OFF")  # a throwaway store: no need to wait for the disk while building it
    rnd = random.Random(seed)
    wards = db.execute("SELECT code, lad_name FROM wards").fetchall()
    authorities = sorted({lad for _, lad in wards})
    pub_scopes = {a: rnd.random() > 0.03 for a in authorities}
    cols = "id, source, ref, scope, ward_code, status, closed_at, last_crawl_id"
    plan = [("mutual_aid", "groups", 5_000, {"mutual_aid": True}, "", lambda r: ()),
            ("fhrs_pubs", "pubs", 50_000, pub_scopes, ", venue_kind", venue_kind_extra),
            ("libraries", "libraries", 4_000, {"libraries": True}, "", lambda r: ()),
            ("threesixty_giving", "grants", n_grants, {"threesixty_giving": True},
             ", amount, currency, award_date, covid", grant_extra)]
    for source, table, n, scopes, extra_cols, extra in plan:
        crawl_id = add_crawl(db, source, scopes)
        width = 8 + (extra_cols.count(",") if extra_cols else 0)
        sql = f"INSERT INTO [{table}] ({cols}{extra_cols}) VALUES ({', '.join('?' * width)})"
        for start in range(0, n, 100_000):
            with db.conn:
                db.conn.executemany(sql, rows(source, start, min(100_000, n - start), wards, rnd, crawl_id, extra))
    db.execute("ANALYZE")
    return db


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        db = build(Path(tmp) / "bench.db", args.grants)
        print(f"built store: {args.grants:,} grants, 50,000 pubs, 4,000 libraries, 5,000 groups "
              f"in {time.perf_counter() - t0:.1f} s")
        times = []
        for k in range(args.repeat):
            t = time.perf_counter()
            out = compute_and_store(db, f"2024-06-30T07:00:{k:02d}", defaults())
            times.append(time.perf_counter() - t)
        best, median = min(times), statistics.median(times)
        print(f"compute_and_store: {len(out)} rows; best {best:.3f} s, median {median:.3f} s over {args.repeat} runs")
        print(f"target {TARGET_SECONDS:.1f} s: median/target = {median / TARGET_SECONDS:.2f} "
              f"({'met' if median < TARGET_SECONDS else 'MISSED'})")
        db.close()


if __name__ == "__main__":
    main()
