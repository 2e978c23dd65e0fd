"""Benchmark: ingest a 360Giving JSON package end to end (replay server -> spider -> pipelines -> store).

Run: python -m bench.bench_ingest [--grants 50000,200000] [--keep DIR]
     python -m bench.bench_ingest --compare [--pairs 3] [--grants 50000,200000]
--compare runs the project's crawl and the hand-rolled baseline (bench/baseline_ingest.py, in its own process,
from the same replay server) alternately, in pairs, and prints each one's median grants/s, peak RSS and the
ratio of medians. Target: the project within 1.2x of the baseline, peak RSS < 250 MB.
Builds packages of real grants (the replay data's 5,140 grants repeated under new ids), serves each from the
replay server behind a one-dataset registry, crawls it with run_crawl into a fresh database, and prints grants/s,
the crawl child's peak RSS (sampled with psutil), and the floor: the same grants loaded by a bare
`sqlite-utils insert`, with the ratio. Targets: >= 5,000 grants/s; peak RSS < 300 MB, not growing with file size.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from core.config import load
from monitor.changes.crawl import run_crawl
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer
from spiders.sources.threesixty_giving.replay import HERE, PublisherFile, build_routes, recorded

TARGET_RATE, TARGET_RSS_MB = 5_000, 300
# postcodes.io is the local emulator: its requests are not paced (against the live API they are, at
# postcodes_rate_per_second; bench_postcodes measures that client). The baseline looks up nothing.
EMULATOR = {"LBM_POSTCODES_RATE": "0"}
SCRAPY = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 1, "DOWNLOAD_TIMEOUT": 600,
          "LBM_ALLOW_PRIVATE_ADDRESSES": True}


def real_grants() -> list[dict]:
    grants = []
    for name in sorted(HERE.glob("grantnav-testdata_*.json")):
        grants += json.loads(name.read_text(encoding="utf-8"))["grants"]
    return grants


def write_package(path: Path, nl_path: Path, n: int) -> int:
    """Write a package of n grants (real ones under new ids) and the same grants as NL-JSON; return its bytes."""
    base = real_grants()
    with open(path, "w", encoding="utf-8") as out, open(nl_path, "w", encoding="utf-8") as nl:
        out.write('{"grants": [\n')
        for i in range(n):
            g = dict(base[i % len(base)], id=f"{base[i % len(base)]['id']}-b{i // len(base)}")
            line = json.dumps(g, ensure_ascii=False)
            out.write(line + (",\n" if i < n - 1 else "\n"))
            nl.write(line + "\n")
        out.write("]}\n")
    return path.stat().st_size


class PeakRss:
    """Sample the resident memory of this process's children (the crawl) every 50 ms; keep the peak."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            for child in me.children(recursive=True):
                try:
                    self.peak = max(self.peak, child.memory_info().rss)
                except psutil.Error:
                    pass
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def crawl_package(package: Path, db_path: Path) -> tuple[float, int, object]:
    """Serve the package behind a one-dataset registry and crawl it; return (seconds, peak RSS, result)."""
    datasets, _ = recorded()
    dataset = json.loads(json.dumps(datasets[0]))
    dataset["distribution"][0]["downloadURL"] = "/bench/" + package.name
    served = PublisherFile("/bench/" + package.name, package, "application/json", modified=dataset["modified"])
    with ReplayServer(routes=build_routes([dataset], [served]) + postcodes_io.routes()) as server:
        env = {"LBM_SCRAPY_SETTINGS": json.dumps(SCRAPY), "LBM_POSTCODES_URL": server.url, **EMULATOR}
        with PeakRss() as rss:
            start = time.perf_counter()
            result = run_crawl("threesixty_giving", db_path, load(None), "2024-06-01T00:00:00+00:00",
                               start_url=server.url + "/data.json", extra_env=env, timeout=3600)
            seconds = time.perf_counter() - start
    return seconds, rss.peak, result


def baseline_run(package: Path, db_path: Path) -> tuple[float, int]:
    """Serve the package and ingest it with the hand-rolled baseline in a child process; return (seconds, RSS)."""
    db_path.unlink(missing_ok=True)
    served = PublisherFile("/bench/" + package.name, package, "application/json")
    with ReplayServer(routes=build_routes([], [served])) as server:
        with PeakRss() as rss:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "bench.baseline_ingest", server.url + served.url_path,
                            str(db_path)], check=True, capture_output=True, cwd=Path(__file__).parent.parent)
            seconds = time.perf_counter() - start
    return seconds, rss.peak


def compare(n: int, work: Path, pairs: int) -> dict:
    """Run project and baseline alternately `pairs` times each (the order swaps every pair); return medians."""
    package, nl_path = work / f"package-{n}.json", work / f"grants-{n}.nljson"
    write_package(package, nl_path, n)
    ours, theirs, peaks = [], [], []
    for i in range(pairs):
        for who in (("ours", "base") if i % 2 == 0 else ("base", "ours")):
            if who == "ours":
                db = work / f"ingest-{n}.db"
                for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                    p.unlink(missing_ok=True)
                seconds, peak, result = crawl_package(package, db)
                assert result.counts["new"] == n, (result.status, result.reason, result.counts)
                ours.append(seconds)
                peaks.append(peak)
            else:
                seconds, peak = baseline_run(package, work / f"baseline-{n}.db")
                theirs.append(seconds)
    ours_s, base_s = statistics.median(ours), statistics.median(theirs)
    return {"grants": n, "ours": n / ours_s, "base": n / base_s, "ratio": ours_s / base_s,
            "pairs": [round(a / b, 2) for a, b in zip(ours, theirs)], "peak_mb": max(peaks) / 2**20}


def floor_insert(nl_path: Path, db_path: Path) -> float:
    """Time a bare `sqlite-utils insert` of the same grants (NL-JSON, nested objects stored as JSON text)."""
    cli = Path(sys.executable).with_name("sqlite-utils")
    start = time.perf_counter()
    subprocess.run([str(cli), "insert", str(db_path), "grants", str(nl_path), "--nl", "--pk", "id", "--alter"], check=True)
    return time.perf_counter() - start


def run(n: int, work: Path) -> dict:
    package, nl_path = work / f"package-{n}.json", work / f"grants-{n}.nljson"
    size = write_package(package, nl_path, n)
    seconds, peak, result = crawl_package(package, work / f"ingest-{n}.db")
    floor = floor_insert(nl_path, work / f"floor-{n}.db")
    stored = result.counts["new"]
    return {"grants": n, "mb": size / 2**20, "stored": stored, "status": result.status, "seconds": seconds,
            "rate": stored / seconds, "peak_mb": peak / 2**20, "floor_seconds": floor, "floor_rate": n / floor}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_ingest")
    p.add_argument("--grants", default="50000,200000", help="package sizes in grants, comma-separated")
    p.add_argument("--keep", help="folder to build in and keep (default: a temporary folder)")
    p.add_argument("--compare", action="store_true", help="paired runs against the hand-rolled baseline")
    p.add_argument("--pairs", type=int, default=3)
    a = p.parse_args(argv)
    work = Path(a.keep or tempfile.mkdtemp(prefix="bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    if a.compare:
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; postcodes.io: the local "
              "emulator, unpaced", flush=True)
        print(f"{'grants':>8} {'ours g/s':>9} {'base g/s':>9} {'ours/base time':>14} {'per pair':>18} "
              f"{'peak RSS MB':>11}")
        try:
            for n in (int(x) for x in a.grants.split(",")):
                r = compare(n, work, a.pairs)
                print(f"{r['grants']:>8} {r['ours']:>9.0f} {r['base']:>9.0f} {r['ratio']:>14.2f} "
                      f"{' '.join(map(str, r['pairs'])):>18} {r['peak_mb']:>11.0f}", flush=True)
        finally:
            if not a.keep:
                shutil.rmtree(work, ignore_errors=True)
        print("target: ours/base time <= 1.2 (medians of paired runs); peak RSS < 250 MB")
        return 0
    print(f"{'grants':>8} {'file MB':>8} {'stored':>8} {'status':>7} {'s':>7} {'grants/s':>9} {'x target':>8} "
          f"{'peak RSS MB':>11} {'floor s':>8} {'floor g/s':>9} {'floor/ours':>10}")
    try:
        for n in (int(x) for x in a.grants.split(",")):
            r = run(n, work)
            print(f"{r['grants']:>8} {r['mb']:>8.1f} {r['stored']:>8} {r['status']:>7} {r['seconds']:>7.1f} "
                  f"{r['rate']:>9.0f} {r['rate'] / TARGET_RATE:>8.2f} {r['peak_mb']:>11.0f} "
                  f"{r['floor_seconds']:>8.1f} {r['floor_rate']:>9.0f} {r['floor_rate'] / r['rate']:>10.1f}",
                  flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"targets: >= {TARGET_RATE} grants/s; peak RSS < {TARGET_RSS_MB} MB and flat across file sizes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
