"""Benchmark: postcode lookups, the local postcode directory against postcodes.io (and the client's concurrency).

Run: python -m bench.bench_postcodes [--postcodes 20000] [--national-rows 2600000]
Compares the local directory with the service for the same postcodes: see bench/postcode_directory_bench.py.
Run: python -m bench.bench_postcodes --compare concurrency [--postcodes 20000] [--latency 0.15] [--pairs 3]
     [--concurrency 4] [--rate 10]
One bulk request at a time against several in flight: serves postcodes.io from the replay emulator, every answer
--latency seconds late (a distant server), and resolves the same postcodes into a fresh database with the
sequential client (postcodes_concurrency 1) and the concurrent one, alternately, in pairs. Both keep the rate limit (postcodes_rate_per_second). Prints each run, the median
postcodes/s of each, the ratio, whether the two cached the same answers, and the request rate against the limit
(per run; at the server, first to last arrival and the shortest gap). The postcodes are every real one in the
replay data (libraries, grants, pubs, groups; the emulator answers the few it has records of, null for the rest,
as postcodes.io does for one it does not know), topped up with made-up postcodes in their sectors past that.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from core.config import defaults, load
from db.schema import public
from db.store import connect
from geo.postcodes import PostcodesClient, normalise_postcode
from spiders import registry  # noqa: F401  (the settings learn the sources' own from it)
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer

REPLAY_DATA = Path(postcodes_io.__file__).parent / "data"
NOW = "2024-06-01T00:00:00+00:00"
_LOOSE = re.compile(r"\b[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}\b")
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"     # letters a postcode's unit may use


def real_postcodes() -> list[str]:
    """Return every valid postcode written in the replay data's files, sorted."""
    found: set[str] = set()
    for path in sorted(REPLAY_DATA.rglob("*")):
        if path.suffix in (".csv", ".json", ".xml"):
            text = path.read_text(encoding="utf-8", errors="replace")
            found.update(filter(None, map(normalise_postcode, _LOOSE.findall(text))))
    return sorted(found)


def postcodes_to_ask(n: int, seed: int = 2020) -> tuple[list[str], int]:
    """Return (n postcodes in a fixed random order, how many of them are real)."""
    real = real_postcodes()
    chosen = real[:n]
    if n > len(real):
        taken = set(real)
        sectors = sorted({pc[:-2] for pc in real})
        made = (f"{s}{a}{b}" for a in _UNIT_LETTERS for b in _UNIT_LETTERS for s in sectors)
        chosen += [pc for pc in made if pc not in taken][: n - len(real)]
    random.Random(seed).shuffle(chosen)
    return chosen, min(n, len(real))


class Arrivals:
    """Wrap the emulator's bulk route: note when each request arrives."""

    def __init__(self, handler):
        self.handler, self.times, self.lock = handler, [], threading.Lock()

    def __call__(self, req):
        with self.lock:
            self.times.append(time.monotonic())
        return self.handler(req)

    def take(self) -> list[float]:
        with self.lock:
            times, self.times = self.times, []
        return times


def shortest_gap(times: list[float]) -> float:
    """Return the shortest time between two consecutive arrivals (a burst shows as a gap near 0)."""
    return min((b - a for a, b in zip(times, times[1:])), default=float("nan"))


def one_run(url: str, arrivals: Arrivals, postcodes: list[str], concurrency: int, rate: float, db_path: Path):
    """Resolve the postcodes into a fresh database; return (seconds, request arrival times, cache digest, found)."""
    db = connect(db_path)
    public.apply(db)
    settings = load(None, environ={"LBM_POSTCODES_URL": url})
    settings.update(postcodes_concurrency=concurrency, postcodes_rate_per_second=rate)
    client = PostcodesClient(db, settings)
    arrivals.take()
    start = time.perf_counter()
    answers = client.postcodes(postcodes, now=NOW)
    seconds = time.perf_counter() - start
    client.close()
    digest = hashlib.sha256()
    for row in db.execute("select postcode, result from postcode_cache order by postcode"):
        digest.update(repr(row).encode())
    found = sum(v is not None for v in answers.values())
    db.conn.close()
    return seconds, arrivals.take(), digest.hexdigest(), found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.bench_postcodes", description=__doc__.splitlines()[0])
    p.add_argument("--postcodes", type=int, default=20000)
    p.add_argument("--latency", type=float, default=0.15, help="seconds the emulator waits before each answer")
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=defaults()["postcodes_concurrency"])
    p.add_argument("--rate", type=float, default=defaults()["postcodes_rate_per_second"],
                   help="requests per second (0 = no limit)")
    p.add_argument("--compare", choices=("directory", "concurrency"), default="directory",
                   help="the local directory against the service (default), or the client one request at a time "
                        "against several in flight")
    p.add_argument("--national-rows", type=int, default=2_600_000,
                   help="with --compare directory: also load a national-sized directory file of this many rows "
                        "(0 = skip)")
    a = p.parse_args(argv)
    if a.compare == "directory":
        from bench.postcode_directory_bench import compare
        postcodes, n_real = postcodes_to_ask(a.postcodes)
        return compare(postcodes, n_real, a.national_rows, a.latency, a.concurrency, a.rate)
    postcodes, n_real = postcodes_to_ask(a.postcodes)
    (method, pattern, bulk), *others = postcodes_io.routes(latency=a.latency)
    arrivals = Arrivals(bulk)
    work = Path(tempfile.mkdtemp(prefix="bench-postcodes-"))
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{len(postcodes):,} postcodes ({n_real:,} real from the replay data, {len(postcodes) - n_real:,} made up "
          f"in their sectors); latency {a.latency * 1000:.0f} ms; limit {a.rate:g} requests/s; "
          f"concurrency 1 against {a.concurrency}")
    runs: dict[int, list] = {1: [], a.concurrency: []}
    try:
        with ReplayServer(routes=[(method, pattern, arrivals), *others]) as server:
            for pair in range(a.pairs):
                order = (1, a.concurrency) if pair % 2 == 0 else (a.concurrency, 1)
                for concurrency in order:
                    run = one_run(server.url, arrivals, postcodes, concurrency, a.rate,
                                  work / f"run{pair}-{concurrency}.db")
                    runs[concurrency].append(run)
                    seconds, times, _, found = run
                    print(f"pair {pair + 1} concurrency {concurrency:>2}: {seconds:6.1f} s  "
                          f"{len(postcodes) / seconds:7,.0f} postcodes/s  {len(times)} requests  "
                          f"{found} found", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rate = {c: statistics.median(len(postcodes) / r[0] for r in rs) for c, rs in runs.items()}
    same = len({r[2] for rs in runs.values() for r in rs}) == 1
    print(f"median postcodes/s: sequential {rate[1]:,.0f}, concurrent {rate[a.concurrency]:,.0f}; "
          f"ratio {rate[a.concurrency] / rate[1]:.2f}x; same cache contents in every run: {'yes' if same else 'NO'}")
    for concurrency, rs in runs.items():
        # requests / run time is what postcodes.io would be asked for; the server's own clock shows the spacing
        # (its arrival times jitter by milliseconds, so its average may touch the limit from either side).
        per_run = max(len(t) / seconds for seconds, t, _, _ in rs)
        spacing = max((len(t) - 1) / (t[-1] - t[0]) for _, t, _, _ in rs if len(t) > 1)
        gap = min(shortest_gap(t) for _, t, _, _ in rs)
        held = "none set" if not a.rate else "held" if per_run <= a.rate else "BROKEN"
        print(f"concurrency {concurrency:>2}: highest requests/s of a run {per_run:.2f} (limit {a.rate:g}: {held}); "
              f"at the server: first to last arrival {spacing:.2f}/s, shortest gap {gap * 1000:.0f} ms")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
