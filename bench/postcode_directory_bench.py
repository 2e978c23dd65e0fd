"""The local postcode directory against postcodes.io for the same postcodes (run through bench.bench_postcodes).

Three figures. Loading: a national-sized file in ONSPD's layout (52 columns, 2.6M rows by default; made-up
postcodes in the real ones' districts, real LSOA codes in turn, one in ten terminated) into a fresh database:
seconds, rows/s and what the load added to peak memory. Lookups: the same N postcodes asked of the directory
(which holds all of them: the demo directory's row where it has one, else a real LSOA in turn) and of postcodes.io
emulated by the replay server on 127.0.0.1, first with no pacing or latency (the least any service costs), then
as the public service is used (--rate requests/s, --concurrency in flight, --latency s late). Each both as the
bare lookup and as the resolver's whole postcode step (lookup, LSOA or point, ward).
"""
from __future__ import annotations

import csv
import os
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

from core.config import load
from db.geography import ward_index
from db.postcode_directory import directory_rows, load_directory
from db.postcodes import PostcodesClient
from db.resolver import Query, Resolver
from db.store import init_public
from spiders.replay import postcodes_io
from spiders.replay.postcode_directory import OUT as DEMO_DIRECTORY
from spiders.replay.server import ReplayServer

NOW = "2024-06-01T00:00:00+00:00"
UNITS = "ABDEFGHJLNPQRSTUWXYZ"
BATCH = 1000            # the crawl's geo-match batch (LBM_BATCH_SIZE)
# ONSPD's columns (its user guide), the five the loader reads among them.
ONSPD_COLUMNS = ("pcd pcd2 pcds dointr doterm oscty ced oslaua osward parish usertype oseast1m osnrth1m osgrdind "
                 "oshlthau nhser ctry rgn streg pcon eer teclec ttwa pct itl statsward oa01 casward park lsoa01 "
                 "msoa01 ur01ind oac01 oa11 lsoa11 msoa11 wz11 sicbl bua22 ru11ind oac11 lat long lep1 lep2 pfa "
                 "imd calncv icb oa21 lsoa21 msoa21").split()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_lsoas(db) -> list[str]:
    return [r[0] for r in db.execute("select code from lsoas order by code")]


def national_file(path: Path, rows: int, postcodes: list[str], lsoas: list[str]) -> None:
    """Write an ONSPD-shaped CSV of `rows` distinct postcodes in the districts of the given ones."""
    districts = sorted({pc.split()[0] for pc in postcodes})
    before = ",".join(["E99999999"] * (ONSPD_COLUMNS.index("lsoa11") - 5))
    middle = ",".join(["E99999999"] * (ONSPD_COLUMNS.index("lat") - ONSPD_COLUMNS.index("lsoa11") - 1))
    after = ",".join(["E99999999"] * (len(ONSPD_COLUMNS) - ONSPD_COLUMNS.index("long") - 1))
    rng = random.Random(2020)
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(ONSPD_COLUMNS) + "\n")
        for sector in range(10):
            for a in UNITS:
                for b in UNITS:
                    for d in districts:
                        if n == rows:
                            return
                        pc = f"{d} {sector}{a}{b}"
                        doterm = "200901" if n % 10 == 9 else ""
                        lat, lng = rng.uniform(50.5, 54.5), rng.uniform(-3.0, 0.5)
                        f.write(f"{pc.replace(' ', '')},{pc},{pc},198001,{doterm},{before},{lsoas[n % len(lsoas)]},"
                                f"{middle},{lat:.6f},{lng:.6f},{after}\n")
                        n += 1
    if n < rows:
        raise SystemExit(f"only {n:,} distinct postcodes in {len(districts)} districts")


def asked_directory(path: Path, postcodes: list[str], lsoas: list[str]) -> None:
    """Write a directory holding every asked postcode: the demo directory's row, else a real LSOA in turn."""
    with open(DEMO_DIRECTORY, newline="", encoding="utf-8") as f:
        demo = {r["pcds"]: r for r in csv.DictReader(f)}
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["pcds", "doterm", "lsoa11", "lat", "long"])
        for i, pc in enumerate(postcodes):
            r = demo.get(pc) or {"doterm": "", "lsoa11": lsoas[i % len(lsoas)], "lat": "", "long": ""}
            w.writerow([pc, r["doterm"], r["lsoa11"], r["lat"], r["long"]])


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def cpu_timed(fn) -> tuple[float, float, object]:
    """Return (wall seconds, this process's CPU seconds, result): on a shared machine the two differ."""
    cpu = time.process_time()
    seconds, out = timed(fn)
    return seconds, time.process_time() - cpu, out


def resolve_all(resolver: Resolver, postcodes: list[str]) -> int:
    placed = 0
    for i in range(0, len(postcodes), BATCH):
        answers = resolver.resolve_many([Query(postcode=pc) for pc in postcodes[i:i + BATCH]], now=NOW)
        placed += sum(1 for r in answers if r.ward_code)
    return placed


def service_run(work: Path, url: str, postcodes: list[str], rate: float, concurrency: int, name: str):
    """Return (lookup s, resolve s, placed): postcodes.io asked with an empty cache each time, no directory."""
    settings = load(None, environ={"LBM_POSTCODES_URL": url})
    settings.update(postcodes_rate_per_second=rate, postcodes_concurrency=concurrency)
    db = init_public(work / f"{name}-lookup.db")
    client = PostcodesClient(db, settings)
    lookup, _ = timed(lambda: client.postcodes(postcodes, now=NOW))
    client.close()
    db = init_public(work / f"{name}-resolve.db")
    resolve, placed = timed(lambda: resolve_all(Resolver(db, settings), postcodes))
    return lookup, resolve, placed


def compare(postcodes: list[str], n_real: int, national_rows: int, latency: float, concurrency: int,
            rate: float) -> int:
    """Print the load, then lookups per second of the directory and of the service, and their ratios."""
    n = len(postcodes)
    work = Path(tempfile.mkdtemp(prefix="bench-directory-"))
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    try:
        db = init_public(work / "directory.db")
        lsoas = real_lsoas(db)
        if national_rows:
            path = work / "ONSPD_national.csv"
            written, _ = timed(lambda: national_file(path, national_rows, postcodes, lsoas))
            size = path.stat().st_size
            rss_before = peak_rss_mb()
            national = init_public(work / "national.db")
            seconds, cpu, counts = cpu_timed(lambda: load_directory(national, path, NOW))
            print(f"national file: {national_rows:,} rows x {len(ONSPD_COLUMNS)} columns, {size / 1e6:,.0f} MB "
                  f"(written in {written:.1f} s); loaded in {seconds:.1f} s ({cpu:.1f} s CPU) = "
                  f"{national_rows / seconds:,.0f} rows/s ({national_rows / cpu:,.0f} per CPU second) "
                  f"({counts['loaded']:,} postcodes, {counts['terminated']:,} terminated); peak RSS "
                  f"{rss_before:,.0f} MB before, {peak_rss_mb():,.0f} MB after", flush=True)
            path.unlink()
        directory_file = work / "asked.csv"
        asked_directory(directory_file, postcodes, lsoas)
        load_directory(db, directory_file, NOW)
        print(f"{n:,} postcodes ({n_real:,} real from the replay data, {n - n_real:,} made up in their sectors); "
              f"the directory holds them all", flush=True)
        ward_index()    # loaded once per process (a second or two), before any timing: both sides use it
        d_lookup, held = timed(lambda: directory_rows(db.conn, postcodes))
        offline = load(None, environ={"LBM_POSTCODES_URL": "http://127.0.0.1:9"})
        d_resolve, d_placed = timed(lambda: resolve_all(Resolver(db, offline), postcodes))
        assert len(held) == n
        print(f"directory:            lookup {n / d_lookup:>10,.0f} postcodes/s   resolve {n / d_resolve:>9,.0f}/s "
              f"({d_placed:,} placed)", flush=True)
        runs = {}
        with ReplayServer(routes=postcodes_io.routes()) as fast, \
                ReplayServer(routes=postcodes_io.routes(latency=latency)) as paced:
            for name, url, r, c, what in (
                    ("floor", fast.url, 0, concurrency, "no latency, no limit"),
                    ("public", paced.url, rate, concurrency,
                     f"{latency * 1000:.0f} ms late, {rate:g} requests/s, {concurrency} in flight")):
                lookup, resolve, placed = service_run(work, url, postcodes, r, c, name)
                runs[name] = (lookup, resolve)
                print(f"postcodes.io ({what}): lookup {n / lookup:>8,.0f} postcodes/s   resolve "
                      f"{n / resolve:>9,.0f}/s ({placed:,} placed: it knows only the replay's few)", flush=True)
        for name, (lookup, resolve) in runs.items():
            print(f"directory against postcodes.io {name}: lookup {lookup / d_lookup:,.0f}x faster, "
                  f"resolve {resolve / d_resolve:,.1f}x faster")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0

