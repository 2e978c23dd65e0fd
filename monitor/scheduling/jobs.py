"""The jobs the scheduler and the command line run: a crawl with everything that follows it, and the digest.

A crawl job: crawl in a child process -> changes and closures -> indicators -> alerts. Each step is its own
module; this file only orders them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from db.store import init_private, init_public
from monitor.changes import closures
from monitor.changes.crawl import CrawlResult, run_crawl
from monitor.indicators import compute as indicators
from monitor.reports import alerts, digest
from monitor.scheduling.stop import stop_requested


@dataclass
class CrawlJobResult:
    crawl: CrawlResult
    events: list[int] = field(default_factory=list)
    indicators: int = 0
    alerts: int = 0

    @property
    def failed(self) -> str | None:
        """Why the job failed (its crawl failed outright), or None: the scheduler records the job as failed."""
        if self.crawl.status == "failed":
            return f"crawl {self.crawl.crawl_id} of {self.crawl.source} failed: {self.crawl.reason}"
        return None


def crawl_job(settings: dict, db_path, private_db_path, source: str, now: str, start_url: str | None = None,
              config_path=None, send: bool = True, transport=None, extra_env: dict | None = None,
              timings: dict | None = None) -> CrawlJobResult:
    """Crawl one source, then derive events and closures, recompute the indicators and send alerts.

    timings, when given, gets the seconds of each step (crawl, closures, indicators, alerts).
    """
    timings = {} if timings is None else timings
    started = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal started
        now_ = time.perf_counter()
        timings[step] = now_ - started
        started = now_

    # SIGTERM lets the current step finish, then stops. A crawl whose closures were not applied is harmless:
    # the next crawl of the source applies its own, and records first seen here get their `new` event then.
    crawl = run_crawl(source, db_path, settings, now, start_url=start_url, config_path=config_path,
                      extra_env=extra_env)
    lap("crawl")
    result = CrawlJobResult(crawl)
    if stop_requested():
        return result
    db = init_public(db_path)
    result.events = closures.apply_crawl(db, crawl.crawl_id, settings, now)
    lap("closures")
    if stop_requested():
        return result
    result.indicators = len(indicators.compute_and_store(db, now, settings))
    lap("indicators")
    if send and not stop_requested():
        result.alerts = alerts.send_alerts(db, init_private(private_db_path), settings, crawl.crawl_id, now,
                                           transport=transport)
        lap("alerts")
    return result


def digest_job(settings: dict, db_path, private_db_path, now: str, transport=None) -> int:
    """Send the weekly digest to every subscriber; return the number of messages."""
    return digest.send_digest(init_public(db_path), init_private(private_db_path), settings, now,
                              transport=transport)


def summary_line(result) -> str:
    """One line per crawl: items, new, changed, unchanged, quarantined, unresolved, health."""
    c, crawl = result.crawl.counts, result.crawl
    health = crawl.status if crawl.status == "ok" else f"{crawl.status} ({crawl.reason})"
    return (f"{crawl.source}: {c['items']} items, {c['new']} new, {c['changed']} changed, "
            f"{c['unchanged']} unchanged, {c['quarantined']} quarantined, {c['unresolved']} unresolved locations, "
            f"{len(result.events)} events, {result.alerts} alerts; health {health}")
