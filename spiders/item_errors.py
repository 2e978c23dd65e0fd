"""Items lost to errors: a pipeline that raises on an item drops it (Scrapy logs the error and carries on), so a
crawl could look complete with a batch of records missing, and records missing from a healthy crawl close.
Counted here (item_errors/count, item_errors/<exception>), the crawl's scopes are judged unhealthy, as for parse
errors (monitor/changes/health.py).
"""
from __future__ import annotations

from scrapy import signals


class ItemErrors:
    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler.stats)
        crawler.signals.connect(extension.item_error, signal=signals.item_error)
        return extension

    def item_error(self, item, response, spider, failure):
        self.stats.inc_value("item_errors/count")
        self.stats.inc_value(f"item_errors/{failure.value.__class__.__name__}")
