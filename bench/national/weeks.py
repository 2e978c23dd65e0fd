"""Write each simulated week's files and run it through the scheduler's own jobs, timing every stage."""
from __future__ import annotations

import json
import resource
import time
from pathlib import Path

import numpy as np

from bench.national.calendar import week_date
from bench.national.grants import GrantsPlan
from bench.national.libraries_plan import LibrariesPlan
from bench.national.pubs_plan import PubsPlan
from bench.national.serve import WeekReplay
from db.store import init_public
from monitor.delivery import subscriptions
from monitor.scheduling.jobs import crawl_job, digest_job
from spiders.sources.libraries import replay as libraries
from spiders.sources.mutual_aid import replay as mutual_aid

SOURCES = ("fhrs_pubs", "threesixty_giving", "libraries", "mutual_aid")
# The real lists, as the replay serves them last: the DCMS / ACE 2023 libraries and mutualaid.wiki's June 2020 export.
LIBRARIES = libraries.SNAPSHOTS[-1].path
MUTUAL_AID = mutual_aid.SNAPSHOTS[-1].path
CRAWLS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 1, "DOWNLOAD_TIMEOUT": 600,
          "CONCURRENT_REQUESTS_PER_DOMAIN": 4, "LBM_ALLOW_PRIVATE_ADDRESSES": True}


def write_week(out: Path, week: int, weeks: int, pubs: PubsPlan, grants: GrantsPlan,
               libs: LibrariesPlan) -> dict[str, int]:
    """Plant the week's changes and write its files under out/sources/week-N; return pubs listed per authority."""
    folder, previous = out / "sources" / f"week-{week}", out / "sources" / f"week-{week - 1}"
    folder.mkdir(parents=True)
    listed = pubs.write(folder, previous if week > 1 else None, week_date(week), pubs.plant(week, weeks))
    grants.write(folder, previous if week > 1 else None, grants.plant(week))
    libs.plant(week, int(week_date(week)[:4]))
    libs.write(folder / "libraries.csv")
    (folder / "mutual_aid.csv").write_bytes(MUTUAL_AID.read_bytes())
    return listed


def subscribe_people(public_db, private_db, n: int, rng: np.random.Generator, now: str) -> None:
    """Subscribe n people, each to one local authority and two wards chosen at random."""
    wards = [r[0] for r in public_db.execute("select code from wards order by code").fetchall()]
    lads = sorted({r[0] for r in public_db.execute("select lad_code from wards").fetchall()})
    for i in range(n):
        subscriptions.subscribe(private_db, public_db, f"person{i}@example.org", now=now,
                                wards=[wards[int(j)] for j in rng.choice(len(wards), 2, replace=False)],
                                lads=[lads[int(rng.integers(len(lads)))]], kinds=None)


def parent_peak_mb() -> int:
    """Return this process's peak RSS so far (the kernel's high-water mark): read after each stage, it shows which
    stage raised it."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run_week(ctx, week: int, replay: WeekReplay, server_url: str) -> dict:
    """Run one week's crawls (each through crawl_job) and the digest; return the stage seconds and crawl ids."""
    replay.week_dir = ctx.out / "sources" / f"week-{week}"
    day = week_date(week)
    env = {"LBM_SCRAPY_SETTINGS": json.dumps(CRAWLS), "LBM_POSTCODES_URL": server_url}
    seconds, crawls = {}, {}
    for source in SOURCES:
        timings: dict = {}
        result = crawl_job(ctx.settings, ctx.db_path, ctx.private_db_path, source, f"{day}T06:00:00+00:00",
                           config_path=ctx.config_path, extra_env=env, timings=timings)
        crawls[result.crawl.crawl_id] = week
        seconds[source] = {k: round(v, 2) for k, v in timings.items()}
        seconds[source]["status"] = result.crawl.status
        seconds[source]["parent_peak_mb"] = parent_peak_mb()
    started = time.perf_counter()
    digest_job(ctx.settings, ctx.db_path, ctx.private_db_path, f"{day}T07:00:00+00:00")
    seconds["digest"] = round(time.perf_counter() - started, 2)
    seconds["digest_parent_peak_mb"] = parent_peak_mb()
    return {"seconds": seconds, "crawls": crawls}


def open_pubs_stored(db_path: Path) -> int:
    db = init_public(db_path)
    return db.execute("select count(*) from pubs where coalesce(status, 'open') = 'open'").fetchone()[0]


def pubs_in_files(folder: Path) -> int:
    """Count the pubs (business type 7843) the week's register files list, from their bytes."""
    return sum(path.read_bytes().count(b"<BusinessTypeID>7843</BusinessTypeID>")
               for path in sorted((folder / "fhrs").glob("FHRS*en-GB.xml")))
