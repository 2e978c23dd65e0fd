"""The jobs the scheduler and the command line run: a crawl with everything that follows it, and the digest.

A crawl job: crawl in a child process -> changes and closures -> indicators -> alerts. Each step is its own
module; this file only orders them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from db.store import init_private, init_public
from spiders.crawl import CrawlResult, run_crawl


@dataclass
class CrawlJobResult:
    crawl: CrawlResult
    events: list[int] = field(default_factory=list)
    indicators: int = 0
    alerts: int = 0


def crawl_job(settings: dict, db_path, private_db_path, source: str, now: str, start_url: str | None = None,
              config_path=None, send: bool = True, transport=None, extra_env: dict | None = None) -> CrawlJobResult:
    """Crawl one source, then derive events and closures, recompute the indicators and send alerts."""
    from monitor import alerts, closures, indicators

    crawl = run_crawl(source, db_path, settings, now, start_url=start_url, config_path=config_path,
                      extra_env=extra_env)
    db = init_public(db_path)
    events = closures.apply_crawl(db, crawl.crawl_id, settings, now)
    rows = indicators.compute_and_store(db, now, settings)
    sent = 0
    if send:
        sent = alerts.send_alerts(db, init_private(private_db_path), settings, crawl.crawl_id, now,
                                  transport=transport)
    return CrawlJobResult(crawl, events, len(rows), sent)


def digest_job(settings: dict, db_path, private_db_path, now: str, transport=None) -> int:
    """Send the weekly digest to every subscriber; return the number of messages."""
    from monitor import digest

    return digest.send_digest(init_public(db_path), init_private(private_db_path), settings, now,
                              transport=transport)
