"""Benchmark: reading a 360Giving package, the project's reader (orjson between cuts) against ijson alone.

Run: python -m bench.bench_json_reader [--grants 50000] [--runs 3]
Builds a package of real grants (as bench_ingest does), reads it with spiders.sources.threesixty_giving.grants_json.json_grants and with
ijson.items (the yajl2_c backend, as the baseline ingest uses), alternately, and prints the median seconds of each
and the ratio. Both must give the same grants.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import ijson

from bench.bench_ingest import write_package
from spiders.sources.threesixty_giving.grants_json import json_grants


def read_ijson(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in ijson.items(f, "grants.item", use_float=True))


def read_ours(path: Path) -> int:
    return sum(1 for _ in json_grants(path))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_json_reader")
    p.add_argument("--grants", type=int, default=50000)
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-json-"))
    try:
        package = work / "package.json"
        size = write_package(package, work / "grants.nljson", a.grants)
        with open(package, "rb") as g:
            assert list(json_grants(package)) == list(ijson.items(g, "grants.item", use_float=True)), "readers differ"
        times = {"ours": [], "ijson": []}
        for _ in range(a.runs):
            for name, read in (("ours", read_ours), ("ijson", read_ijson)):
                start = time.perf_counter()
                assert read(package) == a.grants
                times[name].append(time.perf_counter() - start)
        ours, theirs = statistics.median(times["ours"]), statistics.median(times["ijson"])
        print(f"{a.grants} grants, {size / 2**20:.0f} MB: ours {ours:.2f} s ({a.grants / ours:,.0f} grants/s), "
              f"ijson {theirs:.2f} s ({a.grants / theirs:,.0f} grants/s); ijson/ours {theirs / ours:.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
