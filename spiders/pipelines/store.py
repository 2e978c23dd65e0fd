"""Store: upsert the current row, append a version only when the content hash changes, keep quarantined rows.

A record's `status`, `closed_at` and `missing_count` belong to the closures step; a crawl writes what the source
says into `source_status` and `source_closed_at`, and only sets `status` when it first inserts a record.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter

import sqlite_utils

from spiders.items import Record

_PLAIN = frozenset({str, int, float, type(None)})
BOOKKEEPING = ("first_seen_at", "last_seen_at", "first_crawl_id", "last_crawl_id", "content_hash")


def content_hash(item: Record, row: dict | None = None) -> str:
    """Return the sha1 of the item's canonical JSON, leaving out fields that change without meaning."""
    row = item.to_row() if row is None else row
    meaningful = {k: v for k, v in row.items() if k not in item.VOLATILE}
    return hashlib.sha1(json.dumps(meaningful, sort_keys=True, default=str).encode()).hexdigest()


class RecordStore:
    """Writes the items of one crawl."""

    def __init__(self, db: sqlite_utils.Database, crawl_id: int, now: str):
        self.db = db
        self.crawl_id = crawl_id
        self.now = now
        self.known: dict[str, dict[str, str]] = {}   # table -> id -> content hash
        self.counts: Counter = Counter()
        self.seen: set[str] = set()   # ids written in this crawl: a source listing one twice is counted once
        self.columns: dict[str, set[str]] = {}   # table -> its columns, for the executemany path

    def _hashes(self, table: str, source: str) -> dict[str, str]:
        if table not in self.known:
            rows = self.db.execute(f"select id, content_hash from [{table}] where source = ?", [source])
            self.known[table] = dict(rows.fetchall())
        return self.known[table]

    def write(self, items: list[Record]) -> Counter:
        """Store a batch; return counts of new, changed and unchanged records and items per scope."""
        counts: Counter = Counter()
        by_table: dict[str, list[Record]] = {}
        for item in items:
            by_table.setdefault(item.TABLE, []).append(item)
        with self.db.conn:
            for table, batch in by_table.items():
                counts.update(self._write_table(table, batch))
        self.counts.update(counts)
        return counts

    def _write_table(self, table: str, items: list[Record]) -> Counter:
        known = self._hashes(table, items[0].source)
        counts: Counter = Counter()
        upserts, inserts, versions, touched = [], [], [], []
        for item in items:
            if item.id in self.seen:
                counts["duplicate"] += 1
                continue
            self.seen.add(item.id)
            row = item.to_row()
            digest = content_hash(item, row)
            row.update(content_hash=digest, last_seen_at=self.now, last_crawl_id=self.crawl_id)
            counts[f"scope/{item.scope}/items"] += 1
            previous = known.get(item.id)
            if previous is None:
                row.update(first_seen_at=self.now, first_crawl_id=self.crawl_id, status="open", missing_count=0)
                inserts.append(row)
                counts["new"] += 1
            elif previous != digest:
                upserts.append(row)
                counts["changed"] += 1
            else:
                touched.append((self.now, self.crawl_id, item.id))
                counts["unchanged"] += 1
                continue
            known[item.id] = digest
            versions.append({"record_id": item.id, "record_table": table, "crawl_id": self.crawl_id,
                             "at": self.now, "content_hash": digest,
                             "data": json.dumps(row, sort_keys=True, default=str)})
        if inserts:
            self._insert(table, inserts, replace=True)
        if upserts:
            self.db[table].upsert_all(upserts, pk="id", alter=True, batch_size=500)
        if touched:
            self.db.conn.executemany(
                f"update [{table}] set last_seen_at = ?, last_crawl_id = ? where id = ?", touched)
        if versions:
            self._insert("versions", versions)
        return counts

    def _insert(self, table: str, rows: list[dict], replace: bool = False) -> None:
        """Insert rows with one executemany when every column exists and every value is plain; else sqlite-utils.

        sqlite-utils commits every chunk of ~40 rows (999 variables) and JSON-checks every value: for wide record
        rows that was about half the store's time. Its insert_all stays the path for new columns and odd values.
        """
        columns = list(dict.fromkeys(k for row in rows for k in row))
        have = self.columns.get(table)
        if have is None:
            have = self.columns[table] = set(self.db[table].columns_dict)
        plain = all(type(v) in _PLAIN for row in rows for v in row.values())
        if not plain or not have.issuperset(columns):
            self.db[table].insert_all(rows, pk="id", alter=True, replace=replace, batch_size=500)
            self.columns[table] = set(self.db[table].columns_dict)
            return
        names = ", ".join(f"[{c}]" for c in columns)
        sql = (f"insert {'or replace ' if replace else ''}into [{table}] ({names}) "
               f"values ({', '.join('?' * len(columns))})")
        self.db.conn.executemany(sql, [[row.get(c) for c in columns] for row in rows])

    def quarantine(self, item: Record, reason: str) -> None:
        """Keep a record that cannot be stored, with its raw row and the reason."""
        raw = item.raw if item.raw is not None else item.to_row()
        with self.db.conn:
            self.db["quarantine"].insert({
                "crawl_id": self.crawl_id, "source": item.source, "ref": item.ref or "", "reason": reason,
                "raw": json.dumps(raw, default=str, ensure_ascii=False), "at": self.now}, pk="id")
        self.counts["quarantined"] += 1
