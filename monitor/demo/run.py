"""`run.py demo`: replay real dated snapshots offline, week by simulated week, through the scheduler's own jobs."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from core.config import load
from core.errors import InputError
from db.postcode_directory import load_directory
from db.store import init_private, init_public
from monitor.delivery import subscriptions
from monitor.demo.plan import STEPS
from monitor.scheduling.jobs import crawl_job, digest_job, summary_line
from spiders.replay.catalogue import replay_server, start_urls
from spiders.replay.postcode_directory import OUT as DEMO_POSTCODES

DEMO_EMAIL = "demo@example.org"
FAST_CRAWLS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 1, "DOWNLOAD_TIMEOUT": 10,
               "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
               "LBM_ALLOW_PRIVATE_ADDRESSES": True}   # the replay server is on 127.0.0.1


def prepare_dir(directory: Path, force: bool) -> None:
    """Make an empty demo folder; refuse to overwrite an earlier demo unless forced."""
    if directory.exists() and any(directory.iterdir()):
        if not force:
            raise InputError(f"{directory} is not empty: give --force to replace it, or another --dir")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)


def write_config(directory: Path, base_url: str) -> Path:
    """Write the demo's settings as a TOML file people can reuse (`--config demo/demo.toml`)."""
    urls = start_urls(base_url)
    # postcodes.io is the local replay server here: no need to pace requests as for the public service.
    lines = [f'postcodes_url = "{base_url}"', "postcodes_rate_per_second = 0", "allow_private_addresses = true",
             f'maildir = "{(directory / "mail").as_posix()}"', "[start_urls]"]
    lines += [f'{name} = "{url}"' for name, url in sorted(urls.items())]
    path = directory / "demo.toml"
    path.write_text("# Settings of the offline demo: every source points at the local replay server.\n"
                    + "\n".join(lines) + "\n", encoding="utf-8")
    return path


# Left-behind wards in authorities whose whole pub lists the replay serves: Headland and Harbour (Hartlepool),
# Harpurhey (Manchester), Stanley (County Durham).
DEMO_WARDS = ("E05008947", "E05000704", "E05009083")
DEMO_LAD = "E09000032"   # Wandsworth, whose hand-checked pub closures the replay serves


def demo_wards(db) -> list[dict]:
    """Return the wards the demo subscriber watches, with their names."""
    rows = db.execute(f"""select code, name, lad_code, lad_name from wards
                          where code in ({",".join("?" * len(DEMO_WARDS))})""", DEMO_WARDS).fetchall()
    return [dict(zip(("code", "name", "lad_code", "lad_name"), r)) for r in rows]


def subscribe_demo(public_db, private_db, now: str) -> list[dict]:
    wards = demo_wards(public_db)
    subscriptions.subscribe(private_db, public_db, DEMO_EMAIL, now=now, wards=[w["code"] for w in wards],
                            lads=[DEMO_LAD], kinds=None)
    return wards


def run_step(ctx_obj, settings, config_path, server, step, echo) -> dict:
    """Run one simulated week: the crawls due, then the weekly digest."""
    server.clock.date = step.date
    server.clear_faults()
    for fault in step.faults:
        server.set_fault(fault.path_prefix, status=fault.status)
    env = {"LBM_SCRAPY_SETTINGS": json.dumps(FAST_CRAWLS), "LBM_POSTCODES_URL": server.url}
    out = {"date": step.date, "crawls": []}
    for source in step.crawls:
        t = time.monotonic()
        result = crawl_job(settings, ctx_obj.db_path, ctx_obj.private_db_path, source, f"{step.date}T06:00:00+00:00",
                           config_path=config_path, extra_env=env)
        echo(f"    {summary_line(result)}  [{time.monotonic() - t:.1f} s]")
        out["crawls"].append(result)
    out["digests"] = digest_job(settings, ctx_obj.db_path, ctx_obj.private_db_path, f"{step.date}T07:00:00+00:00")
    return out


def run_demo(obj, directory: Path, force: bool, echo) -> float:
    """Run every simulated week into fresh databases in directory; return the monotonic start time.

    obj is the command's context: its database paths, config path and settings are pointed at the demo's.
    """
    started = time.monotonic()
    directory = directory.resolve()
    prepare_dir(directory, force)
    obj.db_path, obj.private_db_path = directory / "leftbehind.db", directory / "private.db"
    with replay_server() as server:
        config_path = write_config(directory, server.url)
        obj.config_path = config_path
        obj.settings = settings = load(config_path)
        public_db, private_db = init_public(obj.db_path), init_private(obj.private_db_path)
        wards = subscribe_demo(public_db, private_db, f"{STEPS[0].date}T00:00:00+00:00")
        # As `run.py init --postcodes` would: postcodes are placed from it first, postcodes.io asked for the rest.
        loaded = load_directory(public_db, DEMO_POSTCODES, f"{STEPS[0].date}T00:00:00+00:00")
        echo(f"Replay server on {server.url}; databases in {directory}")
        echo(f"Postcode directory: {loaded['loaded']:,} postcodes built from the replayed sources' own pairs")
        echo(f"Subscribed {DEMO_EMAIL} to {', '.join(w['name'] + ' (' + w['lad_name'] + ')' for w in wards)} "
             f"and to Wandsworth")
        for i, step in enumerate(STEPS, 1):
            echo(f"[{i}/{len(STEPS)}] week of {step.date}: {step.note}  ({time.monotonic() - started:.0f} s)")
            run_step(obj, settings, config_path, server, step, echo)
    return started
