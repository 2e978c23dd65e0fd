"""Batch: gather items so that geo-matching is vectorised and writes are grouped, then geo-match and store."""
from __future__ import annotations

import sqlite3

from scrapy.utils.defer import deferred_from_coro

from db.items import items_of
from spiders.pipelines.context import crawl_context
from spiders.pipelines.geomatch import resolve_items


class BatchPipeline:
    """Scrapy pipeline 300: every LBM_BATCH_SIZE items, geo-match them together and store them."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.size = crawler.settings.getint("LBM_BATCH_SIZE", 1000)
        self.buffer = []
        self.context = crawl_context(crawler)   # the store and resolver, from the crawler's settings

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        records = items_of(item)
        for record in records:
            record.raw = None   # kept for quarantine, which is behind us: a batch holds no copy of its source rows
        self.buffer.extend(records)
        if len(self.buffer) >= self.size:
            self.flush()
        return item

    def close_spider(self, spider=None):
        self.flush(closing=True)

    def flush(self, closing: bool = False) -> None:
        if not self.buffer:
            return
        items, self.buffer = self.buffer, []
        resolve_items(items, self.context.resolver, self.stats, now=self.context.store.now)
        try:
            counts = self.context.store.write(items)
        except sqlite3.OperationalError as e:
            # A full disk, or a write lock held past the busy timeout: nothing more can be stored, so the crawl
            # stops, and says why instead of ending as "no items".
            self.stats.set_value("store/error", str(e))
            if not closing:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_error"))
            raise
        for key, n in counts.items():
            self.stats.inc_value(key if key.startswith("scope/") else f"store/{key}", n)
