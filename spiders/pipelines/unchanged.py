"""Unchanged input: a re-crawled record whose source input is what its stored row was built from is only touched
as seen, before it is even built (mapped), normalised, validated, geo-matched and hashed again.

Most of a weekly 360Giving crawl is the same grants again; those steps were most of its time. A spider hands such
records down as `Unbuilt` (spiders/items.py): the id each will have, the hash of its input (for 360Giving: the grant's
bytes as published, with the file's URL, publisher and licence and the version of the mapping code), and the
spider's mapping to build it. A spider told which input hashes are stored from its file (spiders/conditional_get.py)
does not even parse a record it finds there: it hands it down in the batch's `Known`, touched without asking the
store. A record left without a ward because postcodes.io was unavailable has no input hash
(spiders/pipelines/geomatch.py), so it is never skipped and the lookup is tried again next time; nor is one listed
twice (the store counts the duplicate).
Everything else is built here and goes on as before. A batch from a file no good crawl has read is built without
looking (a first national crawl asked the database about a million grants it did not hold); should some of its
records be stored already (the file moved), the store finds them unchanged by their content hash.
Touches go to the seen marks (db/seen.py), FLUSH_EVERY records at a time, in one transaction; always before a
record they concern goes on, and when the crawl ends.
Stats: store/unchanged and scope/<scope>/items as the store counts them, plus store/unchanged_input, and
unchanged/first_reading (records of files read for the first time).
"""
from __future__ import annotations

from db import seen
from spiders.items import Batch, Known, Unbuilt
from spiders.pipelines.context import crawl_context

FLUSH_EVERY = 100_000


class UnchangedPipeline:
    """Scrapy pipeline 45: touch records whose input is unchanged since they were stored; build the rest."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.has_column: dict[str, bool] = {}
        self.pending: dict[str, set[str]] = {}   # table -> ids touched, not yet written

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        if not isinstance(item, Batch) or not (item.unbuilt or item.known):
            return item
        unbuilt, item.unbuilt = item.unbuilt, []
        known, item.known = item.known, None
        again = self._touch_known(known) if known and known.rows else []
        tables = {u.table for u in unbuilt}
        if item.first_reading:
            self.stats.inc_value("unchanged/first_reading", len(unbuilt))
        elif len(tables) == 1 and self._has_column(*tables):
            unbuilt = self._touch_unchanged(unbuilt)
        if again or any(u.id in self.pending.get(u.table, ()) for u in unbuilt):
            self.flush()   # listed again: the store must see it as touched in this crawl
        item.items.extend(u.record() for u in unbuilt)
        if again:
            item.items.extend(Known(known.table, known.scope, known.build, again).records())
        if sum(map(len, self.pending.values())) >= FLUSH_EVERY:
            self.flush()
        return item

    def close_spider(self, spider=None):
        self.flush()

    def flush(self) -> None:
        """Write the pending touches: last seen in this crawl."""
        store = crawl_context(self.crawler).store
        with store.db.conn:
            for table, touched in self.pending.items():
                seen.touch(store.db, table, touched, store.crawl_id, store.now)
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
        rows = store.db.execute(f"select r.id, r.input_hash from [{table}] r "
                                f"where r.id in ({', '.join('?' * len(ids))}) "
                                f"and {seen.last_crawl(table)} != ?", ids + [store.crawl_id])
        stored = dict(rows.fetchall())
        touched, scopes, rest = self.pending.setdefault(table, set()), {}, []
        for u in unbuilt:
            if u.id not in touched and stored.get(u.id) == u.input_hash:
                touched.add(u.id)
                scopes[u.scope] = scopes.get(u.scope, 0) + 1
            else:
                rest.append(u)   # new, changed, unresolved, or listed twice: the store decides
        self._count(scopes)
        return rest

    def _touch_known(self, known: Known) -> list[tuple[str, str, bytes]]:
        """Mark as seen the records the spider found by their input hash; return those listed twice, to be built."""
        touched, again = self.pending.setdefault(known.table, set()), []
        before = len(touched)
        for row in known.rows:
            if row[0] in touched:
                again.append(row)
            else:
                touched.add(row[0])
        self._count({known.scope: len(touched) - before})
        return again

    def _count(self, scopes: dict[str, int]) -> None:
        n = sum(scopes.values())
        if n:
            self.stats.inc_value("store/unchanged", n)
            self.stats.inc_value("store/unchanged_input", n)
            crawl_context(self.crawler).store.counts["unchanged"] += n
            for scope, k in scopes.items():
                self.stats.inc_value(f"scope/{scope}/items", k)
