"""A national week, simulated with planted truth: every English authority's register, a full 360Giving registry.

Run: python -m bench.national_week --scale S --out DIR [--weeks N] [--seed K] [--subscribers M] [--pages N]
At scale 1: about 500,000 establishments (50,000 pubs, bars and clubs) in 326 authorities' files in proportion to
the real 2018 pub counts, each pub in its own authority's wards; about 250 publishers' files holding 1,000,000
real grants under new ids; the real library and mutual aid lists. Each week's files are written under
DIR/sources/week-N/, served by the replay server, and run through the scheduler's crawl and digest jobs into
DIR/leftbehind.db. Planted between weeks (bench/national/pubs_plan.py, grants.py): closures, changes of hands,
renamings, openings, a file cut short and a renumbered one, a publisher leaving the registry, 1% of grants changed,
libraries closed and closures announced in the real list (libraries_plan.py).
Prints one JSON line: planted and found per kind, false and missed, seconds per stage, the peak RSS of the whole
process tree, the store's size, and the open pubs stored against the pubs in the last week's files; with --pages,
the 95th percentile of the busiest left-behind ward's page and of the left-behind feed, served by `run.py serve`.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.national.calendar import week_date
from bench.national.grants import GrantsPlan
from bench.national.libraries_plan import LibrariesPlan
from bench.national.measure import TreeRss
from bench.national.pages import time_pages
from bench.national.pubs_plan import PubsPlan
from bench.national.serve import WeekReplay, week_server
from bench.national.truth import Truth, compare
from bench.national.weeks import LIBRARIES, open_pubs_stored, pubs_in_files, run_week, subscribe_people, write_week
from core.config import load
from db.store import init_private, init_public
from monitor.demo.run import write_config


@dataclass
class Context:
    out: Path
    db_path: Path
    private_db_path: Path
    config_path: Path
    settings: dict


def store_mb(db_path: Path) -> float:
    return sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*")) / 2**20


def simulate(scale: float, out: Path, weeks: int, seed: int, subscribers: int | None, pages: int = 0) -> dict:
    rng, truth = np.random.default_rng(seed), Truth()
    started = time.perf_counter()
    pubs, grants = PubsPlan(scale, rng, truth), GrantsPlan(scale, rng, truth)
    libs = LibrariesPlan(LIBRARIES, rng, truth)
    report = {"scale": scale, "weeks": weeks, "seed": seed, "authorities": len(pubs.registers),
              "pubs": pubs.pubs(), "establishments": sum(len(r.pubs) + r.others for r in pubs.registers.values()),
              "publishers": len(grants.publishers), "grants": grants.total,
              "grant_formats": {k: sum(p.grants for p in grants.publishers if p.kind == k)
                                for k in ("json", "csv", "xlsx")},
              "seconds": {"setup": 0.0, "weeks": []}}
    replay = WeekReplay()
    with TreeRss() as rss, week_server(replay) as server:
        config = write_config(out, server.url)
        ctx = Context(out, out / "leftbehind.db", out / "private.db", config, load(config))
        public_db, private_db = init_public(ctx.db_path), init_private(ctx.private_db_path)
        n = subscribers if subscribers is not None else max(10, round(2000 * scale))
        subscribe_people(public_db, private_db, n, rng, f"{week_date(1)}T00:00:00+00:00")
        report["subscribers"] = n
        report["seconds"]["setup"] = round(time.perf_counter() - started, 2)
        crawl_weeks: dict[int, int] = {}
        for week in range(1, weeks + 1):
            t = time.perf_counter()
            write_week(out, week, weeks, pubs, grants, libs)
            built = time.perf_counter() - t
            done = run_week(ctx, week, replay, server.url)
            crawl_weeks.update(done["crawls"])
            report["seconds"]["weeks"].append({"week": week, "write_files": round(built, 2), **done["seconds"],
                                               "cycle": round(time.perf_counter() - t - built, 2)})
            print(f"week {week}: {json.dumps(report['seconds']['weeks'][-1])}", file=sys.stderr, flush=True)
        report["peak_rss_mb"] = round(rss.peak / 2**20)
        report["peak_rss_children_mb"] = round(rss.peak_children / 2**20)
        report["peak_rss_parent_mb"] = round(rss.peak_self / 2**20)
    report.update(compare(init_public(ctx.db_path), truth, crawl_weeks))
    last = out / "sources" / f"week-{weeks}"
    report["open_pubs_stored"], report["pubs_in_last_files"] = open_pubs_stored(ctx.db_path), pubs_in_files(last)
    report["store_mb"] = round(store_mb(ctx.db_path), 1)
    report["seconds"]["total"] = round(time.perf_counter() - started, 2)
    if pages:
        report["pages"] = time_pages(out, pages)
    report["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.national_week", description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, required=True, help="1 = the national register and registry")
    p.add_argument("--out", required=True, help="an empty (or new) folder for the sources and the databases")
    p.add_argument("--weeks", type=int, default=3, help="simulated weeks (at least 3: a closure takes two)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--subscribers", type=int, help="people subscribed (default 2,000 at scale 1, at least 10)")
    p.add_argument("--pages", type=int, default=0, metavar="N",
                   help="afterwards, serve the store and time N requests of the busiest ward's page and the feed")
    p.add_argument("--force", action="store_true", help="empty --out first if it holds anything")
    a = p.parse_args(argv)
    out = Path(a.out).resolve()
    if not 0 < a.scale <= 2 or a.weeks < 3:
        p.error("--scale must be in (0, 2] and --weeks at least 3")
    if out.exists() and any(out.iterdir()):
        if not a.force:
            p.error(f"{out} is not empty: give --force to replace it, or another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    print(json.dumps(simulate(a.scale, out, a.weeks, a.seed, a.subscribers, a.pages)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
