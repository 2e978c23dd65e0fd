"""Run one spider: the parent opens a crawl_runs row and starts a child process; the child crawls.

Every crawl runs in a child process because Twisted's reactor cannot be restarted inside one process.
Child:  python -m spiders.crawl SOURCE --db PATH --crawl-id N --now ISO [--start-url URL] [--config PATH] [--module M]
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import logging
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from core.config import load
from core.errors import InputError
from db.store import init_public
from spiders import download_folders
from spiders.registry import scrapy_settings, sources, spider_loader

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def spider_class(source: str):
    """Return the spider class for a source name."""
    try:
        return spider_loader().load(source)
    except KeyError:
        raise InputError(f"unknown source {source!r}; known: {', '.join(known_sources())}") from None


def known_sources() -> list[str]:
    """Return the names of every spider, sorted."""
    return sorted(spider_loader().list())


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def child_limits(memory_mb: int):
    """Return a preexec function for the crawl child: a memory ceiling, and death when its parent dies."""
    def limit() -> None:
        if memory_mb:
            ceiling = int(memory_mb) * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        try:   # Linux: an orphaned child (parent killed) is stopped instead of crawling on unwatched
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    return limit


def crawl_in_child(source: str, db_path, settings: dict, now: str, start_url: str | None = None,
                   config_path=None, timeout: float | None = None,
                   extra_env: dict | None = None) -> tuple[int, str | None]:
    """Open a crawl_runs row, crawl one source in a child process; return the crawl id and any crawl error."""
    spider = spider_class(source)
    # The child runs in the repository: relative paths must mean what they meant where the command was given.
    db_path = Path(db_path).resolve()
    config_path = Path(config_path).resolve() if config_path else None
    start_url = start_url or settings["start_urls"].get(source)
    scopes_setting = sources()[source].scopes_setting
    db = init_public(db_path)
    crawl_id = db["crawl_runs"].insert({
        "source": source, "scope": ",".join(settings.get(scopes_setting) or []) if scopes_setting else "",
        "start_url": start_url or spider.default_start_url, "started_at": _utc_now(), "now": now,
        "status": "running", "pid": os.getpid()}, pk="id", alter=True).last_pk
    args = [sys.executable, "-m", "spiders.crawl", source, "--db", str(db_path), "--crawl-id", str(crawl_id),
            "--now", now, "--module", spider.__module__]
    if start_url:
        args += ["--start-url", start_url]
    if config_path:
        args += ["--config", str(config_path)]
    env = {**os.environ, **(extra_env or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    crawl_error = None
    folder = download_folders.make_folder()
    env["LBM_DOWNLOAD_DIR"] = folder
    try:
        proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout or settings["crawl_timeout"],
                              preexec_fn=child_limits(settings.get("crawl_memory_mb", 0)))
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            crawl_error = f"crawl process exited with {proc.returncode}: {tail[0][:300]}"
            if proc.returncode < 0 or "MemoryError" in (proc.stderr or ""):
                crawl_error += " (killed, or out of its memory ceiling crawl_memory_mb)"
    except subprocess.TimeoutExpired:
        crawl_error = f"crawl stopped after its {timeout or settings['crawl_timeout']} s timeout"
    finally:   # killed at its time limit or not, the child's downloads go
        download_folders.remove_folder(folder)
    return crawl_id, crawl_error


def child_main(argv: list[str] | None = None) -> int:
    """Run the spider inside this process (the child)."""
    p = argparse.ArgumentParser(prog="python -m spiders.crawl")
    p.add_argument("source")
    p.add_argument("--db", required=True)
    p.add_argument("--crawl-id", type=int, required=True)
    p.add_argument("--now", required=True)
    p.add_argument("--start-url")
    p.add_argument("--config")
    p.add_argument("--module", help="the spider's module: only it is loaded (the others took 0.16 s to import)")
    a = p.parse_args(argv)

    # A crawl builds millions of short-lived dicts, and holds a batch of 10,000 records while it stores them: the
    # default thresholds collected every 700 allocations, scanning the batch again each time (measured on 200,000
    # grants: 0.91x the time at 50,000, 0.9x again at 1,000,000). Reference cycles are rare here; the crawl's peak
    # memory is the same (228 MB).
    gc.set_threshold(1_000_000, 20, 20)

    settings = load(a.config)
    crawl_settings = scrapy_settings()
    # The child stops itself too: an orphan whose parent was killed does not crawl on for ever.
    crawl_settings.set("CLOSESPIDER_TIMEOUT", float(settings["crawl_timeout"]))
    crawl_settings.set("USER_AGENT", settings["user_agent"])
    crawl_settings.set("DOWNLOAD_TIMEOUT", float(settings["download_timeout"]))
    crawl_settings.set("DOWNLOAD_MAXSIZE", int(settings["response_max_mb"]) * MIB)
    crawl_settings.set("LBM_FILE_MAXSIZE", int(settings["download_max_mb"]) * MIB)
    crawl_settings.set("LBM_DOWNLOAD_DIR", os.environ.get("LBM_DOWNLOAD_DIR") or None)
    crawl_settings.set("LBM_SETTINGS", settings)
    crawl_settings.set("LBM_DB", a.db)
    crawl_settings.set("LBM_CRAWL_ID", a.crawl_id)
    crawl_settings.set("LBM_NOW", a.now)
    for key, value in json.loads(os.environ.get("LBM_SCRAPY_SETTINGS", "{}")).items():
        crawl_settings.set(key, value)   # tests and the demo loosen politeness for the local replay server
    if a.module:
        crawl_settings.set("SPIDER_MODULES", [a.module])
    db = init_public(a.db)
    process = CrawlerProcess(crawl_settings)
    crawler = process.create_crawler(process.spider_loader.load(a.source))
    kwargs = {"start_url": a.start_url} if a.start_url else {}
    status, reason = "finished", ""
    try:
        process.crawl(crawler, **kwargs)
        process.start()
    except Exception as e:  # recorded, then judged unhealthy by the parent
        status, reason = "error", f"{type(e).__name__}: {e}"
    stats = crawler.stats.get_stats() if crawler.stats else {}
    if stats.get("finish_reason") == "closespider_timeout":   # stopped half-way: never a complete crawl
        status, reason = "error", f"crawl stopped after its {settings['crawl_timeout']} s timeout"
    if stats.get("store/error"):   # the parent reads the last line of stderr as the crawl's error
        status, reason = "error", f"the database could not be written: {stats['store/error']}"
        print(reason, file=sys.stderr)
    try:
        db["crawl_runs"].update(a.crawl_id, {"status": status, "reason": reason,
                                              "stats": json.dumps(stats, default=str, sort_keys=True)})
    except sqlite3.OperationalError as e:
        print(f"the crawl could not record its result: {e}", file=sys.stderr)
        return 1
    return 0 if status == "finished" else 1


def exit_now(code: int) -> None:
    """End the child without tearing down its heap: everything it wrote is committed, and interpreter shutdown
    (freeing Scrapy's, Twisted's and the resolver's objects one by one) took a third of a second of every crawl.
    Under a profiler or a coverage tracer it exits normally, so that they can write what they measured."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(child_main())
