"""Benchmark: the FHRS pub register crawl against a hand-rolled ElementTree + insert_all baseline.

Run: python -m bench.bench_fhrs --compare [--per-file 20000] [--pairs 3]
The replay server's five authorities each serve a file of `per-file` establishments: their real pubs, and the
FSA example file's three other establishments repeated under new FHRSIDs, so about one in ten is a pub (as in
the national register). The project's crawl (spiders.crawl fhrs_pubs, child process) and the baseline
(bench/baseline_fhrs.py, child process) run alternately in pairs; prints the median establishments/s of each and
the ratio of medians. Target: the project at most 1.0x the baseline's time.
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
import time
from pathlib import Path

from bench.bench_ingest import EMULATOR, SCRAPY
from core.config import load
from monitor.changes.crawl import run_crawl
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer
from spiders.replay.snapshots import ReplayClock
from spiders.sources.fhrs_pubs.replay import FhrsReplay, recorded_files

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "fixtures" / "fhrs" / "fhrs_open_data_file_FHRSxxxen-GB_example.xml"
OPEN, CLOSE = b"<EstablishmentDetail>", b"</EstablishmentDetail>"


def details(body: bytes) -> list[bytes]:
    return [OPEN + part.split(CLOSE)[0] + CLOSE for part in body.split(OPEN)[1:]]


def big_file(real: bytes, per_file: int, code: str) -> tuple[bytes, int]:
    """Return a file of the authority's real pubs plus others up to per_file establishments; and its pub count."""
    pubs, others = details(real), details(EXAMPLE.read_bytes())
    rows = []
    for i in range(max(per_file - len(pubs), 0)):
        other = others[i % len(others)]
        start, end = other.index(b"<FHRSID>") + 8, other.index(b"</FHRSID>")
        row = other[:start] + f"9{code}{i:07d}".encode() + other[end:]
        at, to = row.index(b"<LocalAuthorityCode>") + 20, row.index(b"</LocalAuthorityCode>")
        rows.append(row[:at] + code.encode() + row[to:])   # this authority's, else its scope is refused
        if i % 9 == 0 and pubs:
            rows.append(pubs.pop())
    rows += pubs
    head = real.split(OPEN)[0]
    return head + b"\n".join(rows) + b"</EstablishmentCollection></FHRSEstablishment>\n", len(details(real))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_fhrs")
    p.add_argument("--compare", action="store_true", help="paired runs against the hand-rolled baseline")
    p.add_argument("--per-file", type=int, default=20000)
    p.add_argument("--pairs", type=int, default=3)
    a = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-fhrs-"))
    replay = FhrsReplay(ReplayClock("2024-01-01"))
    pubs = establishments = 0
    for code, snaps in recorded_files().items():
        replay.override[code], n = big_file(snaps[0].path.read_bytes(), a.per_file, code)
        pubs, establishments = pubs + n, establishments + len(details(replay.override[code]))
    config = work / "c.toml"
    config.write_text('fhrs_authorities = []\n', encoding="utf-8")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{len(replay.override)} files, {establishments} establishments, {pubs} pubs", flush=True)
    ours, theirs = [], []
    try:
        with ReplayServer(routes=replay.routes() + postcodes_io.routes()) as server:
            env = {"LBM_SCRAPY_SETTINGS": json.dumps(SCRAPY), "LBM_POSTCODES_URL": server.url, **EMULATOR}
            for i in range(a.pairs):
                for who in (("ours", "base") if i % 2 == 0 else ("base", "ours")):
                    db = work / f"{who}-{i}.db"
                    start = time.perf_counter()
                    if who == "ours":
                        result = run_crawl("fhrs_pubs", db, load(config), "2024-01-01T05:00:00+00:00",
                                           start_url=server.url, config_path=config, extra_env=env, timeout=3600)
                        assert result.counts["new"] == pubs, (result.status, result.reason, result.counts)
                        ours.append(time.perf_counter() - start)
                    else:
                        subprocess.run([sys.executable, "-m", "bench.baseline_fhrs", server.url, str(db)],
                                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
                        theirs.append(time.perf_counter() - start)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    o, b = statistics.median(ours), statistics.median(theirs)
    print(f"ours {establishments / o:.0f} establishments/s, baseline {establishments / b:.0f}; "
          f"ours/base time {o / b:.2f} (per pair {' '.join(f'{x / y:.2f}' for x, y in zip(ours, theirs))})")
    print("target: ours/base time <= 1.0 (medians of paired runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
