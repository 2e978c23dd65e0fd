"""Unchanged input: a re-crawled record whose source input is what its stored row was built from is only touched
as seen, before it is even built (mapped), normalised, validated, geo-matched and hashed again.

Most of a weekly 360Giving crawl is the same grants again; those steps were most of its time. A spider hands such
records down as `Unbuilt` (db/items.py): the id each will have, the hash of its input (for 360Giving: the grant as
compact JSON in the publisher's key order, with the file's URL, publisher and licence and the version of the
mapping code), and the spider's mapping to build it. A record left without a ward because postcodes.io was
unavailable is never skipped, so the lookup is tried again next time; nor is one listed twice (the store counts the
duplicate). Everything else is built here and goes on as before. A batch from a file no good crawl has read is
built without looking (a first national crawl asked the database about a million grants it did not hold); should
some of its records be stored already (the file moved), the store finds them unchanged by their content hash.
Touches are written FLUSH_EVERY records at a time, in table order, in one transaction; always before a record they
concern goes on, and when the crawl ends.
Stats: store/unchanged and scope/<scope>/items as the store counts them, plus store/unchanged_input, and
unchanged/first_reading (records of files read for the first time).
"""
from __future__ import annotations

from db.items import Batch, Unbuilt
from spiders.pipelines.context import crawl_context

FLUSH_EVERY = 20_000


class UnchangedPipeline:
    """Scrapy pipeline 45: touch records whose input is unchanged since they were stored; build the rest."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.has_column: dict[str, bool] = {}
        self.pending: dict[str, dict[str, int]] = {}   # table -> {id: rowid} touched, not yet written

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        if not isinstance(item, Batch) or not item.unbuilt:
            return item
        unbuilt, item.unbuilt = item.unbuilt, []
        tables = {u.table for u in unbuilt}
        if item.first_reading:
            self.stats.inc_value("unchanged/first_reading", len(unbuilt))
        elif len(tables) == 1 and self._has_column(*tables):
            unbuilt = self._touch_unchanged(unbuilt)
        if any(u.id in self.pending.get(u.table, ()) for u in unbuilt):
            self.flush()   # listed again: the store must see it as touched in this crawl
        item.items.extend(u.record() for u in unbuilt)
        return item

    def close_spider(self, spider=None):
        self.flush()

    def flush(self) -> None:
        """Write the pending touches: last seen in this crawl."""
        store = crawl_context(self.crawler).store
        with store.db.conn:
            for table, touched in self.pending.items():
                rowids = sorted(touched.values())   # in table order: each page is rewritten once, in turn
                for i in range(0, len(rowids), 500):
                    chunk = rowids[i:i + 500]
                    store.db.conn.execute(f"update [{table}] set last_seen_at = ?, last_crawl_id = ? "
                                          f"where rowid in ({', '.join('?' * len(chunk))})",
                                          [store.now, store.crawl_id, *chunk])
        self.pending = {}

    def _has_column(self, table: str) -> bool:
        if table not in self.has_column:   # a store from before this column: every record goes the long way once
            db = crawl_context(self.crawler).store.db
            self.has_column[table] = db[table].exists() and "input_hash" in db[table].columns_dict
        return self.has_column[table]

    def _touch_unchanged(self, unbuilt: list[Unbuilt]) -> list[Unbuilt]:
        """Mark as seen the stored records whose input hash is the same; return the others, to be built."""
        store = crawl_context(self.crawler).store
        table = unbuilt[0].table
        ids = list(dict.fromkeys(u.id for u in unbuilt))
        rows = store.db.execute(f"select id, input_hash, rowid from [{table}] "
                                f"where id in ({', '.join('?' * len(ids))}) "
                                "and last_crawl_id != ? "
                                "and (ward_code is not null or coalesce(geo_reason, '') not like '%unavailable%')",
                                ids + [store.crawl_id])
        stored = {r[0]: r[1:] for r in rows.fetchall()}
        touched, scopes, rest = self.pending.setdefault(table, {}), {}, []
        before = len(touched)
        for u in unbuilt:
            earlier = stored.get(u.id)
            if earlier and earlier[0] == u.input_hash and u.id not in touched:
                touched[u.id] = earlier[1]
                scopes[u.scope] = scopes.get(u.scope, 0) + 1
            else:
                rest.append(u)   # new, changed, unresolved, or listed twice: the store decides
        n = len(touched) - before
        if n:
            self.stats.inc_value("store/unchanged", n)
            self.stats.inc_value("store/unchanged_input", n)
            store.counts["unchanged"] += n
            for scope, k in scopes.items():
                self.stats.inc_value(f"scope/{scope}/items", k)
        if sum(map(len, self.pending.values())) >= FLUSH_EVERY:
            self.flush()
        return rest
