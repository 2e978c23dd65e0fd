"""The crawl's store and resolver, built once per crawler from its Scrapy settings.

Settings: LBM_DB (the public database, required), LBM_CRAWL_ID (the crawl_runs row the monitor opened; without
it, as under a plain `scrapy crawl`, a row is opened here and closed with the crawl's stats), LBM_NOW (the time
the crawl counts as; default the current time), LBM_SETTINGS (the monitor's settings; default: LBM_CONFIG's file
or the defaults).
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cached_property

from scrapy import signals

from core.errors import ConfigError
from db.store import init_public
from geo.resolver import Resolver
from spiders import registry  # noqa: F401  (the store learns its record tables from the sources)
from spiders.options import monitor_settings
from spiders.pipelines.store import RecordStore


class CrawlContext:
    """The crawl's store, and its resolver, built on first use: a crawl that stores nothing new (a file not
    modified) never loads the reference dicts."""

    def __init__(self, store: RecordStore, settings: dict):
        self.store = store
        self.settings = settings

    @cached_property
    def resolver(self) -> Resolver:
        return Resolver(self.store.db, self.settings)


def crawl_context(crawler) -> CrawlContext:
    """Return the crawler's store and resolver, building them on first use."""
    context = getattr(crawler, "lbm_context", None)
    if context is None:
        context = crawler.lbm_context = _build(crawler)
    return context


def _build(crawler) -> CrawlContext:
    s = crawler.settings
    if not s.get("LBM_DB"):
        # An error, not NotConfigured: Scrapy would silently skip the pipeline and store nothing.
        raise ConfigError("set LBM_DB to the public database file, e.g. scrapy crawl NAME -s LBM_DB=leftbehind.db")
    db = init_public(s.get("LBM_DB"))
    # A crawl writes hundreds of MB: checkpoint the WAL every 100 MB rather than every 4 MB (a checkpoint copies
    # each page once however often it changed since the last; measured: a third of the time of inserting 50,000
    # grants at 4 MB, a fifth less again at 100 MB than at 40 MB), trimming the file back to 64 MB afterwards, and
    # keep the pages of the indexes being filled in memory (32 MB) rather than writing them out several times
    # within one batch.
    db.execute("PRAGMA wal_autocheckpoint = 25000")
    db.execute("PRAGMA journal_size_limit = 67108864")
    db.execute("PRAGMA cache_size = -32768")
    now = s.get("LBM_NOW") or datetime.now(UTC).isoformat(timespec="seconds")
    crawl_id = s.getint("LBM_CRAWL_ID") or None
    if crawl_id is None:
        # A plain `scrapy crawl`: record the run like the monitor would, so the stored rows name their crawl.
        crawl_id = db["crawl_runs"].insert({"source": crawler.spidercls.name, "scope": "", "now": now,
                                            "started_at": now, "status": "running"}, pk="id").last_pk

        def closed(spider, reason):
            db["crawl_runs"].update(crawl_id, {
                "status": "finished" if reason == "finished" else "error", "reason": "" if reason == "finished"
                else reason, "stats": json.dumps(crawler.stats.get_stats(), default=str, sort_keys=True)})

        crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
    return CrawlContext(RecordStore(db, crawl_id, now), monitor_settings(s))


class StorePipeline:
    """Base of the pipelines that read or write the crawl's store: the crawler's stats and store, once."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = crawl_context(crawler).store

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)
