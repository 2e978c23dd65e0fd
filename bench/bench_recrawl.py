"""Benchmark: what a weekly re-crawl of a 360Giving package costs, as a fraction of its first full crawl.

Run: python -m bench.bench_recrawl [--grants 20000]
One package of real grants (as bench_ingest builds it) is crawled in full into a fresh database, then again:
  1. the server answers the conditional GET with 304;
  2. the server ignores it (a new ETag) and sends the same bytes: caught by the hash taken while downloading;
  3. 1% of the grants changed (retitled): the rest are skipped by their input hash before normalising.
Prints each one's seconds and its ratio to the full crawl, and (3) beyond the fixed cost of (1) as a share of the
full crawl beyond it (at 20,000 grants the fixed cost is most of a re-crawl). Targets: (2) near (1); (3) <= 0.15.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_ingest import EMULATOR, SCRAPY, write_package
from core.config import load
from monitor.changes.crawl import run_crawl
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer
from spiders.sources.threesixty_giving.replay import PublisherFile, build_routes, recorded

NOWS = ["2024-06-01T00:00:00+00:00", "2024-06-08T00:00:00+00:00", "2024-06-15T00:00:00+00:00",
        "2024-06-22T00:00:00+00:00"]


def retitle(package: Path, every: int) -> int:
    """Change the title of every `every`-th grant of the package in place; return how many changed."""
    lines = package.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = 0
    for i in range(1, len(lines) - 1, every):
        comma = lines[i].rstrip("\n").endswith(",")
        grant = json.loads(lines[i].rstrip("\n").rstrip(","))
        grant["title"] = f"{grant.get('title') or ''} (revised)"
        lines[i] = json.dumps(grant, ensure_ascii=False) + ("," if comma else "") + "\n"
        changed += 1
    package.write_text("".join(lines), encoding="utf-8")
    return changed


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_recrawl")
    p.add_argument("--grants", type=int, default=20000)
    a = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-recrawl-"))
    try:
        package = work / "package.json"
        write_package(package, work / "grants.nljson", a.grants)
        datasets, _ = recorded()
        dataset = json.loads(json.dumps(datasets[0]))
        dataset["distribution"][0]["downloadURL"] = "/bench/" + package.name
        served = PublisherFile("/bench/" + package.name, package, "application/json", modified=dataset["modified"])
        db = work / "recrawl.db"
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {a.grants} grants")
        with ReplayServer(routes=build_routes([dataset], [served]) + postcodes_io.routes()) as server:
            env = {"LBM_SCRAPY_SETTINGS": json.dumps(SCRAPY), "LBM_POSTCODES_URL": server.url, **EMULATOR}

            def timed(now: str) -> tuple[float, dict]:
                start = time.perf_counter()
                result = run_crawl("threesixty_giving", db, load(None), now, start_url=server.url + "/data.json",
                                   extra_env=env, timeout=3600)
                return time.perf_counter() - start, result.counts

            full, counts = timed(NOWS[0])
            print(f"{'full crawl':<34} {full:>7.1f} s  1.00   new {counts['new']}", flush=True)
            runs = []
            seconds, counts = timed(NOWS[1])
            runs.append(("same bytes, 304", seconds, counts))
            served._etag = '"regenerated"'
            seconds, counts = timed(NOWS[2])
            runs.append(("same bytes, conditional GET ignored", seconds, counts))
            n = retitle(package, 100)
            served._etag = '"one-percent"'
            seconds, counts = timed(NOWS[3])
            runs.append((f"1% changed ({n} grants)", seconds, counts))
            for label, seconds, counts in runs:
                print(f"{label:<34} {seconds:>7.1f} s  {seconds / full:.2f}   changed {counts['changed']} "
                      f"unchanged {counts['unchanged']}", flush=True)
            floor = runs[0][1]   # a crawl process's start and the 304 path: paid by any crawl, of any size
            print(f"1% changed beyond the 304 path: {(runs[2][1] - floor) / (full - floor):.2f} of the full crawl's "
                  f"{full - floor:.1f} s beyond it", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("targets: same bytes near the 304 path; 1% changed <= 0.15 of the full crawl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
