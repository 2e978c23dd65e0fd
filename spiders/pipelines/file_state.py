"""What a spider learnt of a downloaded file (a FileState item), written to the store.

"parsed": its validators and content key are remembered, so the next crawl may ask conditionally.
"not_modified" / "same_content": the records the file gave in the last good crawl are still there: they are
touched as seen in this crawl and counted in the scope's items, so health, closures and indicators treat them as
listed (a file nobody re-read must not make its venues look absent). Validators are carried forward.
"refused": the file is quarantined with its reason (the spider has made its scope unhealthy); its validators are
not remembered, so the next crawl reads it again. Stats: file_state/quarantined.
"""
from __future__ import annotations

import json

from db.items import FileState
from spiders import download_state
from spiders.pipelines.context import StorePipeline


class FileStatePipeline(StorePipeline):
    """Scrapy pipeline 40: remember a read file's validators; count an unchanged file's records as seen."""

    def process_item(self, item, spider=None):
        if not isinstance(item, FileState):
            return item
        db, crawl_id = self.store.db, self.store.crawl_id
        if item.outcome == "refused":
            self.quarantine(item)
        elif item.outcome == "not_modified":
            self.touch(item)
            download_state.keep(db, item.url, crawl_id)
        elif item.outcome == "same_content":
            item.records = self.touch(item)
            download_state.remember(db, item.url, item.etag, item.last_modified, item.version, crawl_id,
                                    item.records, item.content_hash, item.scope)
        else:
            download_state.remember(db, item.url, item.etag, item.last_modified, item.version, crawl_id,
                                    item.records, item.content_hash, item.scope)
        return item

    def quarantine(self, item: FileState) -> None:
        raw = {"file": item.url, "version": item.version, "etag": item.etag, "last_modified": item.last_modified}
        with self.store.db.conn:
            self.store.db["quarantine"].insert({
                "crawl_id": self.store.crawl_id, "source": item.source, "ref": item.url, "reason": item.reason,
                "raw": json.dumps(raw, ensure_ascii=False), "at": self.store.now}, pk="id")
        self.stats.inc_value("file_state/quarantined")

    def touch(self, item: FileState) -> int:
        table = self.crawler.spider.item_class.TABLE   # the crawling spider's records
        n = download_state.touch_records(self.store.db, table, item.source, item.url, self.store.crawl_id,
                                         self.store.now, item.read_in) if table and item.read_in else 0
        self.stats.inc_value("conditional/unchanged_records", n)
        self.stats.inc_value(f"scope/{item.scope}/items", n)   # still listed: health must not see an empty scope
        self.stats.inc_value("store/unchanged", n)
        return n
