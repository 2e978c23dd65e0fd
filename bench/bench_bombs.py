"""Benchmark: hostile downloads and files against a real crawl, at the shipped limits; peak RSS and seconds of each.

Run: python -m bench.bench_bombs [--only NAME,...]
Each case serves its bomb from 127.0.0.1 (tests/bomb_server.py) to a 360Giving crawl child under the shipped
settings (download_max_mb 1024, response_max_mb 100, crawl_memory_mb 4096) and the project's Scrapy settings (3
retries), less politeness delays; the slow body runs with download_timeout 10 (the attack was tried at 10 s).
Peak RSS is the crawl child's and its children's, summed, sampled every 20 ms. Target: under 600 MB each, and every
crawl ended by its limits, never by the crawl's own timeout.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from spiders import settings as project
from tests.bomb_crawl import JSON, crawl_bomb
from tests.bomb_server import MIB, Answer, brotli_bomb, endless, gzip_bomb
from tests.test_parser_bounds import nested, workbook

TARGET_MB = 600
SCRAPY = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": project.RETRY_TIMES,
          "LBM_ALLOW_PRIVATE_ADDRESSES": True}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cases() -> dict[str, dict]:
    brotli, _ = brotli_bomb(8 * 1024)
    gzip, _ = gzip_bomb(10 * MIB)
    slow = Answer(200, {**JSON, "Content-Length": "1000"}, lambda: (b" " for _ in range(1000)), pause=1.0)
    ok = Answer(200, JSON, lambda: [b"[]"])
    return {
        "brotli 8 KB on a 200 (to disk)": {"answer": Answer(200, {**JSON, "Content-Encoding": "br"}, lambda: [brotli])},
        "gzip 10 MB on a 200 (to disk)": {"answer": Answer(200, {**JSON, "Content-Encoding": "gzip"}, lambda: [gzip])},
        "gzip 10 MB on a 404": {"answer": Answer(404, {"Content-Encoding": "gzip"}, lambda: [gzip])},
        "endless 404": {"answer": Answer(404, {"Content-Type": "text/html"}, endless)},
        "1 byte a second, download_timeout 10": {"answer": slow, "download_timeout": 10},
        "JSON nested 100,000 deep": {"answer": Answer(200, JSON, lambda: [nested(100_000)])},
        "XLSX of 1,900 sheets": {"answer": Answer(200, {"Content-Type": XLSX}, lambda: [workbook(1900)])},
        "brotli 8 KB registry (in memory)": {"answer": ok, "registry": Answer(
            200, {**JSON, "Content-Encoding": "br"}, lambda: [brotli])},
        "endless 404 registry (in memory)": {"answer": ok, "registry": Answer(
            404, {"Content-Type": "text/html"}, endless)},
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--only", default="", help="comma-separated case names (a part of the name will do)")
    a = p.parse_args()
    wanted = [w.strip() for w in a.only.split(",") if w.strip()]
    print("| case | peak RSS (MB) | seconds | how it ended |\n|---|---|---|---|")
    for name, case in cases().items():
        if wanted and not any(w in name for w in wanted):
            continue
        with tempfile.TemporaryDirectory() as folder:
            run = crawl_bomb(Path(folder), scrapy=SCRAPY, timeout=600, crawl_memory_mb=4096, **case)
        ok = "ok" if run.peak_mb < TARGET_MB else "OVER TARGET"
        reason = run.result.reason.split(": ", 1)[-1][:150].replace("|", "/")
        print(f"| {name} | {run.peak_mb:.0f} ({ok}) | {run.seconds:.1f} | {reason} |", flush=True)


if __name__ == "__main__":
    main()
