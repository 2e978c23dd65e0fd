"""Store: upsert the current row, append a version only when the content hash changes, keep quarantined rows.

A first-seen record's content is its own row: no second copy goes to `versions` (for a national 360Giving crawl
that copy was a fifth of the ingest). When it first changes, its first content is written to `versions` from the
row, then the new one, so the history a reader sees (monitor/changes/closures.py) is the same. A row whose values
would not read back as they were given (a number in a text column) keeps its first version as before.

A record's `status`, `closed_at` and `missing_count` belong to the closures step; a crawl writes what the source
says into `source_status` and `source_closed_at`, and only sets `status` when it first inserts a record.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from itertools import chain

import orjson
import sqlite_utils

from db import seen
from db.fields import cut_long
from spiders.items import Record

_PLAIN = frozenset({str, int, float, type(None)})


def canonical_bytes(item: Record, row: dict | None = None) -> bytes:
    """Return the item's content as canonical JSON (sorted keys, compact, UTF-8), leaving out volatile fields.

    orjson, not json.dumps: the canonical form of every stored record was 9% of a large ingest.
    """
    content = dict(item.to_row() if row is None else row)
    for name in item.VOLATILE:   # popping a few keys from a copy: half the time of a filtering comprehension
        content.pop(name, None)
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS, default=str)


def canonical_json(item: Record, row: dict | None = None) -> str:
    return canonical_bytes(item, row).decode()


def content_hash(item: Record, row: dict | None = None) -> str:
    """Return the sha1 of the item's canonical JSON: a new version only when it changes."""
    return hashlib.sha1(canonical_bytes(item, row)).hexdigest()


def reads_back(row: dict, types: dict[str, type]) -> bool:
    """Say whether every value would read back from its column as given: text as text, numbers as numbers.

    SQLite turns a number stored in a text column into text; a first version rebuilt from such a row would differ.
    """
    for name, value in row.items():
        kind = type(value)
        if value is None or kind is str and types.get(name) is str:
            continue
        if kind not in (int, float) or types.get(name) not in (int, float):
            return False
    return True


class RecordStore:
    """Writes the items of one crawl."""

    def __init__(self, db: sqlite_utils.Database, crawl_id: int, now: str):
        self.db = db
        self.crawl_id = crawl_id
        self.now = now
        self.counts: Counter = Counter()
        self.columns: dict[str, dict[str, type]] = {}   # table -> its columns and types, for the executemany path
        self.shapes: dict[tuple, bool] = {}   # (table, names, value types) -> reads_back: a few shapes per crawl

    def _stored(self, table: str, ids: list[str]) -> dict[str, tuple[str, int]]:
        """Return (content hash, last crawl id) of the stored records among ids.

        Asked per batch through the primary key, so memory stays flat however many records a crawl brings.
        """
        out = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = self.db.execute(f"select r.id, r.content_hash, {seen.last_crawl(table)} from [{table}] r "
                                   f"where r.id in ({', '.join('?' * len(chunk))})", chunk)
            out.update((r[0], (r[1], r[2])) for r in rows)
        return out

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
        stored = self._stored(table, [item.id for item in items])
        counts: Counter = Counter()
        upserts, inserts, versions, touched, firsts = [], [], [], [], []
        types = self._column_types(table)
        in_batch: set[str] = set()
        for item in items:
            earlier = stored.get(item.id)
            if item.id in in_batch or earlier and earlier[1] == self.crawl_id:   # listed twice by the source
                counts["duplicate"] += 1
                continue
            in_batch.add(item.id)
            row = item.to_row()
            content = canonical_bytes(item, row)
            digest = hashlib.sha1(content).hexdigest()
            row.update(content_hash=digest, last_seen_at=self.now, last_crawl_id=self.crawl_id)
            counts[f"scope/{item.scope}/items"] += 1
            if earlier is None:
                row.update(first_seen_at=self.now, first_crawl_id=self.crawl_id, status="open", missing_count=0)
                inserts.append(row)
                counts["new"] += 1
                if self._reads_back(table, row, types):   # the row itself is its first version
                    continue
            elif earlier[0] != digest:
                upserts.append(row)
                firsts.append((item.id, list(orjson.loads(content))))   # its content's keys
                counts["changed"] += 1
            else:   # the input hash too: a store from before it gains it here, so next time skips this record
                touched.append((self.now, self.crawl_id, getattr(item, "input_hash", None), row.get("geo_method"),
                                row.get("geo_reason"), item.id))
                counts["unchanged"] += 1
                continue
            versions.append({"record_id": item.id, "record_table": table, "crawl_id": self.crawl_id,
                             "at": self.now, "content_hash": digest, "data": content.decode()})
        versions = self._first_versions(table, firsts) + versions   # read before the upsert overwrites them
        if inserts:
            self._insert(table, inserts, replace=True)
        if upserts:
            self._insert(table, upserts, upsert=True)
        # The input hash is new: the row is written anyway, with how its ward was looked up this time (a lookup
        # tried again after postcodes.io failed no longer says it was unavailable).
        rehashed = [t for t in touched if t[2] is not None]
        if rehashed:
            self.db.conn.executemany(f"update [{table}] set last_seen_at = ?, last_crawl_id = ?, input_hash = ?, "
                                     "geo_method = ?, geo_reason = ? where id = ?", rehashed)
        if len(rehashed) < len(touched):
            ids = [t[5] for t in touched if t[2] is None]
            seen.touch(self.db, table, ids, self.crawl_id, self.now)
            if "input_hash" in types:   # never skipped next time (left unresolved for want of postcodes.io)
                self.db.conn.executemany(f"update [{table}] set input_hash = null where id = ? "
                                         "and input_hash is not null", [(i,) for i in ids])
        if versions:
            self._insert("versions", versions)
        return counts

    def _reads_back(self, table: str, row: dict, types: dict[str, type]) -> bool:
        shape = (table, tuple(row), tuple(map(type, row.values())))
        known = self.shapes.get(shape)
        if known is None:
            known = self.shapes[shape] = reads_back(row, types)
        return known

    def _column_types(self, table: str) -> dict[str, type]:
        have = self.columns.get(table)
        if have is None:
            have = self.columns[table] = dict(self.db[table].columns_dict) if self.db[table].exists() else {}
        return have

    def _first_versions(self, table: str, changed: list[tuple[str, list[str]]]) -> list[dict]:
        """Return versions rows holding the stored content of changed records that have no version yet.

        `changed` holds (record id, the keys of its new content); the first content has the same keys.
        """
        out = []
        for i in range(0, len(changed), 500):
            chunk = dict(changed[i:i + 500])
            marks = ", ".join("?" * len(chunk))
            versioned = {r[0] for r in self.db.execute(
                f"select distinct record_id from versions where record_id in ({marks})", list(chunk))}
            unversioned = [rid for rid in chunk if rid not in versioned]
            if not unversioned:
                continue
            cursor = self.db.execute(f"select * from [{table}] where id in ({', '.join('?' * len(unversioned))})",
                                     unversioned)
            names = [d[0] for d in cursor.description]
            for values in cursor.fetchall():
                stored = dict(zip(names, values))
                data = orjson.dumps({k: stored.get(k) for k in chunk[stored["id"]]},
                                    option=orjson.OPT_SORT_KEYS).decode()
                out.append({"record_id": stored["id"], "record_table": table, "crawl_id": stored["first_crawl_id"],
                            "at": stored["first_seen_at"], "content_hash": stored["content_hash"], "data": data})
        return sorted(out, key=lambda v: v["record_id"])

    def _insert(self, table: str, rows: list[dict], replace: bool = False, upsert: bool = False) -> None:
        """Insert (or upsert: update the given columns of a stored row) rows with one executemany when every column
        exists and every value is plain; else sqlite-utils.

        sqlite-utils commits every chunk of ~40 rows (999 variables) and JSON-checks every value: for wide record
        rows that was about half the store's time (its upsert_all took 0.2 ms a changed grant). Its insert_all and
        upsert_all stay the path for new columns and odd values.
        """
        keys = rows[0].keys()
        columns = list(keys)
        have = self._column_types(table)
        same_keys = all(row.keys() == keys for row in rows)
        plain = same_keys and _PLAIN.issuperset(map(type, chain.from_iterable(row.values() for row in rows)))
        if not plain or not same_keys or not have.keys() >= set(columns):
            if upsert:
                self.db[table].upsert_all(rows, pk="id", alter=True, batch_size=500)
            else:
                self.db[table].insert_all(rows, pk="id", alter=True, replace=replace, batch_size=500)
            self.columns[table] = dict(self.db[table].columns_dict)
            return
        names = ", ".join(f"[{c}]" for c in columns)
        sql = (f"insert {'or replace ' if replace else ''}into [{table}] ({names}) "
               f"values ({', '.join(':' + c for c in columns)})")
        if upsert:
            sql += " on conflict (id) do update set " + ", ".join(f"[{c}] = excluded.[{c}]" for c in columns
                                                                  if c != "id")
        self.db.conn.executemany(sql, rows)   # named parameters: sqlite3 reads each row dict directly

    def quarantine(self, item: Record, reason: str) -> bool:
        """Keep a record that cannot be stored, with its raw row and the reason.

        Return True when it is a record already stored: it was seen in this crawl, so it is marked seen (one bad
        field must never make a venue look absent, and absent venues close); its stored content is left as is.
        """
        raw = item.raw if item.raw is not None else item.to_row()
        with self.db.conn:
            self.db["quarantine"].insert({   # long strings cut: a 20 MB title is never stored whole, even here
                "crawl_id": self.crawl_id, "source": item.source, "ref": cut_long(item.ref or ""),
                "reason": cut_long(reason), "raw": json.dumps(cut_long(raw), default=str, ensure_ascii=False),
                "at": self.now}, pk="id")
            touched = 0
            if item.ref and self.db[item.TABLE].exists():
                touched = seen.touch_where(self.db, item.TABLE, f"r.id = ? and {seen.last_crawl(item.TABLE)} != ?",
                                           [item.id, self.crawl_id], self.crawl_id, self.now)
        self.counts["quarantined"] += 1
        return bool(touched)
