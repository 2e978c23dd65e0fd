"""Seen marks: which crawl last listed each record, kept apart from the record's row for wide, numerous tables.

A record's `last_crawl_id` and `last_seen_at` say which crawl last listed it, and closures, health and the
provisional flag are judged by them. Writing them rewrites the record's whole row: for grants (about 1 KB a row, a
million of them, nearly all listed again unchanged every week) rewriting 200,000 rows to say "seen" took 2.3 s,
most of a re-crawl in which 1% of the grants changed. So a table whose item says so (SEEN_APART) keeps the marks
of records listed again unchanged in a narrow side table, `<table>_seen` (id, crawl_id, seen_at: 0.17 s for the same 200,000): a record
was last listed by the later of its row's `last_crawl_id` (written with the row: first stored, changed) and its
`<table>_seen.crawl_id`.

Everything that reads when a record was last listed goes through `last_crawl` (SQL) or `touch` (writes); for a
table kept in place they are the row's own columns.
"""
from __future__ import annotations

from collections.abc import Iterable

import orjson
import sqlite_utils

from db import record_tables


def apart(name: str) -> bool:
    """Say whether table `name` keeps its seen marks apart, as its source declares (db/record_tables.py)."""
    declared = record_tables.registered().get(name)
    return bool(declared and declared.seen_apart)

# A mark already there is updated in place ("insert or replace" deleted and inserted it again: 198,000 marks took
# 0.4-0.8 s that way, 0.3 s this way). "where true" tells SQLite's parser that "on" begins the upsert, not a join.
_UPDATE_MARK = "on conflict (id) do update set crawl_id = excluded.crawl_id, seen_at = excluded.seen_at"


def table(name: str) -> str:
    return f"{name}_seen"


def last_crawl(name: str, alias: str = "r") -> str:
    """Return SQL for the id of the crawl that last listed record `alias` of table `name` (0 when none did)."""
    if not apart(name):
        return f"coalesce({alias}.last_crawl_id, 0)"
    return (f"max(coalesce({alias}.last_crawl_id, 0), "
            f"coalesce((select s.crawl_id from [{table(name)}] s where s.id = {alias}.id), 0))")


def last_seen_at(name: str, alias: str = "r") -> str:
    """Return SQL for when record `alias` of table `name` was last listed."""
    if not apart(name):
        return f"{alias}.last_seen_at"
    return (f"coalesce((select s.seen_at from [{table(name)}] s where s.id = {alias}.id "
            f"and s.crawl_id > coalesce({alias}.last_crawl_id, 0)), {alias}.last_seen_at)")


def create(db: sqlite_utils.Database, name: str) -> None:
    db.execute(f"create table if not exists [{table(name)}] (id text primary key, crawl_id integer not null, "
               "seen_at text not null) without rowid")


def touch(db: sqlite_utils.Database, name: str, ids: Iterable[str], crawl_id: int, now: str) -> None:
    """Mark the records `ids` of table `name` as listed by crawl `crawl_id` at `now` (in the caller's transaction)."""
    ids = sorted(ids)   # in key order: each page of the side table is written once
    if apart(name):   # handed over as JSON, 20,000 at a time: 0.6x the time of an executemany
        for i in range(0, len(ids), 20_000):
            chunk = orjson.dumps(ids[i:i + 20_000]).decode()
            db.execute(f"insert into [{table(name)}] (id, crawl_id, seen_at) "
                       f"select value, ?, ? from json_each(?) where true {_UPDATE_MARK}", [crawl_id, now, chunk])
    else:
        db.conn.executemany(f"update [{name}] set last_crawl_id = ?, last_seen_at = ? where id = ?",
                            ((crawl_id, now, i) for i in ids))


def touch_where(db: sqlite_utils.Database, name: str, where: str, params: list, crawl_id: int, now: str) -> int:
    """Mark as listed by crawl `crawl_id` the records of `name` (alias r) matching `where`; return how many."""
    if apart(name):
        return db.execute(f"insert into [{table(name)}] (id, crawl_id, seen_at) "
                          f"select r.id, ?, ? from [{name}] r where {where} order by r.id {_UPDATE_MARK}",
                          [crawl_id, now, *params]).rowcount
    return db.execute(f"update [{name}] as r set last_crawl_id = ?, last_seen_at = ? where {where}",
                      [crawl_id, now, *params]).rowcount


def forget(db: sqlite_utils.Database, name: str, ids_sql: str, params: list) -> None:
    """Drop the marks of records about to be deleted (`ids_sql` selects their ids)."""
    if apart(name):
        db.execute(f"delete from [{table(name)}] where id in ({ids_sql})", params)
