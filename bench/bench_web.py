"""Benchmark: how fast `run.py serve` answers the people's pages over a store the size of a real one.

Run: python -m bench.bench_web [--requests N]
Builds a public database with 50,000 pubs and 20,000 events spread over the real 2017 wards, serves it with
`run.py serve`, then times sequential requests to a busy ward's page, a name search and both feeds.
Target: a ward page in under 0.5 s at the median.
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from db import serve as serve_mod
from db.store import init_private, init_public
from spiders import registry  # noqa: F401  (the store learns its record tables from the sources)

TARGET_SECONDS = 0.5
ROOT = Path(__file__).resolve().parent.parent


def build(folder: Path) -> tuple[Path, str]:
    db = init_public(folder / "leftbehind.db")
    rng = random.Random(7)
    wards = [r[0] for r in db.execute("select code from wards where left_behind = 1")]
    busy = wards[0]
    pubs = [{"id": f"fhrs_pubs:{i}", "source": "fhrs_pubs", "ref": str(i), "scope": "x", "name": f"Pub {i}",
             "ward_code": busy if i < 60 else rng.choice(wards), "status": rng.choice(["open"] * 9 + ["closed"]),
             "venue_kind": rng.choice(["pub", "bar", "members_club"])} for i in range(50_000)]
    db["pubs"].insert_all(pubs, alter=True)
    events = [{"kind": rng.choice(["closed", "new", "reopened"]), "source": "fhrs_pubs",
               "record_id": f"fhrs_pubs:{i % 50_000}", "name": f"Pub {i}", "ward_code": busy if i < 200 else
               rng.choice(wards), "at": f"20{rng.randint(15, 24)}-0{rng.randint(1, 9)}-01T06:00:00+00:00",
               "crawl_id": 1, "baseline": 0} for i in range(20_000)]
    db["events"].insert_all(events, alter=True)
    db.close()
    init_private(folder / "private.db").close()
    return folder / "leftbehind.db", busy


def timed(client: httpx.Client, path: str, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        assert client.get(path).status_code == 200, path
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db_path, busy = build(folder)
        port = serve_mod.free_port()
        (folder / "site.toml").write_text("web_requests_per_minute = 100000\n")
        process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--db", "leftbehind.db", "--private-db",
                                    "private.db", "--config", "site.toml", "serve", "--port", str(port)],
                                   cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            serve_mod.wait_until_ready(process, url)
            with httpx.Client(base_url=url, timeout=60) as client:
                results = {f"/wards/{busy} (60 pubs, 200 events)": timed(client, f"/wards/{busy}", args.requests),
                           "/wards?q=park (name search)": timed(client, "/wards?q=park", args.requests),
                           f"/wards/{busy}.atom": timed(client, f"/wards/{busy}.atom", args.requests),
                           "/left-behind.atom": timed(client, "/left-behind.atom", args.requests)}
        finally:
            process.terminate()
            process.wait(timeout=15)
    for name, median in results.items():
        print(f"{name}: median {median * 1000:.0f} ms over {args.requests} requests")
    ward = next(iter(results.values()))
    print(f"ward page: {ward:.3f} s median; target < {TARGET_SECONDS} s ({TARGET_SECONDS / ward:.1f}x headroom)")


if __name__ == "__main__":
    main()
