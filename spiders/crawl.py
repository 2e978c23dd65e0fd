"""Run one spider: the parent opens a crawl_runs row and starts a child process; the child crawls.

Every crawl runs in a child process because Twisted's reactor cannot be restarted inside one process.
Child:  python -m spiders.crawl SOURCE --db PATH --crawl-id N --now ISO [--start-url URL] [--config PATH]
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from db.store import init_public
from monitor import health
from monitor.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


def spider_class(source: str):
    """Return the spider class for a source name (the module is named after Spider.name)."""
    from importlib import import_module
    try:
        module = import_module(f"spiders.sources.{source}")
    except ModuleNotFoundError:
        raise InputError(f"unknown source {source!r}; known: {', '.join(known_sources())}") from None
    return module.SPIDER


def known_sources() -> list[str]:
    return sorted(p.stem for p in (ROOT / "spiders" / "sources").glob("*.py") if not p.stem.startswith("_"))


@dataclass
class CrawlResult:
    crawl_id: int
    source: str
    status: str
    reason: str
    counts: dict
    scopes: list


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


def run_crawl(source: str, db_path, settings: dict, now: str, start_url: str | None = None,
              config_path=None, timeout: float | None = None, extra_env: dict | None = None) -> CrawlResult:
    """Crawl one source in a child process, then judge its health per scope; return the result."""
    spider_class(source)
    # The child runs in the repository: relative paths must mean what they meant where the command was given.
    db_path = Path(db_path).resolve()
    config_path = Path(config_path).resolve() if config_path else None
    start_url = start_url or settings["start_urls"].get(source)
    db = init_public(db_path)
    recover_stale_crawls(db, settings, now)
    crawl_id = db["crawl_runs"].insert({
        "source": source, "scope": ",".join(settings.get("fhrs_authorities") or []) if source == "fhrs_pubs" else "",
        "start_url": start_url or spider_class(source).default_start_url, "started_at": _utc_now(), "now": now,
        "status": "running", "pid": os.getpid()}, pk="id", alter=True).last_pk
    args = [sys.executable, "-m", "spiders.crawl", source, "--db", str(db_path), "--crawl-id", str(crawl_id),
            "--now", now]
    if start_url:
        args += ["--start-url", start_url]
    if config_path:
        args += ["--config", str(config_path)]
    env = {**os.environ, **(extra_env or {})}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    crawl_error = None
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
    return finish_crawl(db, source, crawl_id, settings, now, crawl_error)


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


def recover_stale_crawls(db, settings: dict, now: str) -> list[int]:
    """Judge crawls whose process died before judging them (kill -9): unhealthy, so they change nothing."""
    rows = db.execute("select id, source, pid from crawl_runs where finished_at is null").fetchall()
    stale = [(crawl_id, source) for crawl_id, source, pid in rows if not _alive(pid)]
    for crawl_id, source in stale:
        finish_crawl(db, source, crawl_id, settings, now,
                     "interrupted: the crawl's process died before the crawl was judged")
    return [crawl_id for crawl_id, _ in stale]


def finish_crawl(db, source: str, crawl_id: int, settings: dict, now: str, crawl_error: str | None) -> CrawlResult:
    """Judge the scopes, write scope_runs and the final crawl_runs row."""
    row = db["crawl_runs"].get(crawl_id)
    stats = json.loads(row["stats"] or "{}")
    if not crawl_error and row["status"] == "error":
        crawl_error = row["reason"]
    verdicts = health.judge(db, source, crawl_id, stats, settings, crawl_error)
    with db.conn:
        status = health.record(db, source, crawl_id, verdicts, now)
        unhealthy = [v for v in verdicts if not v.healthy]
        reason = crawl_error or "; ".join(f"{v.scope}: {v.reason}" for v in unhealthy[:5])
        counts = {
            "items": sum(v.items for v in verdicts),
            "new": int(stats.get("store/new", 0)), "changed": int(stats.get("store/changed", 0)),
            "unchanged": int(stats.get("store/unchanged", 0)),
            "quarantined": int(stats.get("validate/quarantined", 0)),
            "unresolved": int(stats.get("geo/unresolved", 0)),
        }
        db["crawl_runs"].update(crawl_id, {
            **counts, "status": status, "reason": reason, "finished_at": _utc_now(),
            "healthy_scopes": len(verdicts) - len(unhealthy), "unhealthy_scopes": len(unhealthy)})
        mark_provisional(db, source, crawl_id, verdicts)
        health.raise_failure_event(db, source, crawl_id, settings, now)
    return CrawlResult(crawl_id, source, status, reason, counts, verdicts)


def mark_provisional(db, source: str, crawl_id: int, verdicts) -> None:
    """Flag what an unhealthy scope wrote (it may be half-parsed: a truncated file's last row); when a healthy
    crawl of the scope comes, clear the flag on what it saw again and delete records that only the unhealthy
    crawl ever saw. `provisional` holds the id of the unhealthy crawl that last wrote the record."""
    from monitor.closures import table_for  # the record table of a source

    table = table_for(db, source)
    if table is None or not db[table].exists():
        return
    if "provisional" not in db[table].columns_dict:
        db[table].add_column("provisional", int)
    for v in verdicts:
        if v.healthy:   # first seen in an unhealthy crawl and not confirmed now: never real (a cut-off row)
            never = (f"select id from [{table}] where source = ? and scope = ? and provisional is not null "
                     "and first_crawl_id = provisional and last_crawl_id < ?")
            params = [source, v.scope, crawl_id]
            db.execute(f"delete from versions where record_id in ({never})", params)
            db.execute(f"delete from [{table}] where id in ({never})", params)
        db.execute(f"update [{table}] set provisional = ? where source = ? and scope = ? and last_crawl_id = ?",
                   [None if v.healthy else crawl_id, source, v.scope, crawl_id])


def child_main(argv: list[str] | None = None) -> int:
    """Run the spider inside this process (the child)."""
    p = argparse.ArgumentParser(prog="python -m spiders.crawl")
    p.add_argument("source")
    p.add_argument("--db", required=True)
    p.add_argument("--crawl-id", type=int, required=True)
    p.add_argument("--now", required=True)
    p.add_argument("--start-url")
    p.add_argument("--config")
    a = p.parse_args(argv)

    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from db.resolver import Resolver
    from monitor.config import load
    from spiders import settings as spider_settings
    from spiders.pipelines.store import RecordStore

    settings = load(a.config)
    scrapy_settings = Settings()
    scrapy_settings.setmodule(spider_settings)
    # The child stops itself too: an orphan whose parent was killed does not crawl on for ever.
    scrapy_settings.set("CLOSESPIDER_TIMEOUT", float(settings["crawl_timeout"]))
    scrapy_settings.set("USER_AGENT", settings["user_agent"])
    scrapy_settings.set("LBM_SETTINGS", settings)
    for key, value in json.loads(os.environ.get("LBM_SCRAPY_SETTINGS", "{}")).items():
        scrapy_settings.set(key, value)   # tests and the demo loosen politeness for the local replay server
    db = init_public(a.db)
    process = CrawlerProcess(scrapy_settings)
    crawler = process.create_crawler(spider_class(a.source))
    crawler.lbm_store = RecordStore(db, a.crawl_id, a.now)
    crawler.lbm_resolver = Resolver(db, settings)
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
    db["crawl_runs"].update(a.crawl_id, {"status": status, "reason": reason,
                                          "stats": json.dumps(stats, default=str, sort_keys=True)})
    return 0 if status == "finished" else 1


if __name__ == "__main__":
    sys.exit(child_main())
