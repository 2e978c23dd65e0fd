"""Validators of downloaded files, so an unchanged file is not downloaded again (conditional GET).

A file's validators are trusted only when they were recorded by a crawl that finished ok or partial: after a
failed crawl every file is downloaded in full again. A server that ignores conditional GET and sends the
same bytes again is caught by its sha256 (content_hash): the file is not parsed either. Records of a file the
server says is unchanged (304) are touched as seen in this crawl, so closures, indicators and health treat them as
still present. Used by the downloader middleware (spiders/conditional_get.py) and the FileState pipeline.
"""
from __future__ import annotations

import hashlib
import sqlite3
import threading
from concurrent.futures import Future

import sqlite_utils

from db import seen

GOOD_CRAWLS = ("ok", "partial")


def load(db: sqlite_utils.Database) -> dict[str, dict]:
    """Return url -> {etag, last_modified, registry_modified, content_hash} recorded by good crawls, in a scope
    that crawl judged healthy (a file read in a scope judged unhealthy is read again)."""
    if "download_state" not in db.table_names():
        return {}
    scoped = "scope" in db["download_state"].columns_dict
    healthy = ("and (d.scope is null or exists (select 1 from scope_runs s where s.crawl_id = d.crawl_id "
               "and s.scope = d.scope and s.healthy = 1))") if scoped else ""
    rows = db.query(
        "select d.url, d.etag, d.last_modified, d.registry_modified, d.content_hash, d.crawl_id from download_state d "
        f"join crawl_runs c on c.id = d.crawl_id where c.status in (?, ?) {healthy}", list(GOOD_CRAWLS))
    return {r["url"]: r for r in rows}


def conditional_headers(state: dict | None, registry_modified: str | None) -> dict[str, str]:
    """Return If-None-Match / If-Modified-Since for a file, or {} when it must be downloaded in full."""
    if not state or (state.get("registry_modified") or "") != (registry_modified or ""):
        return {}
    headers = {}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    return headers


def remember(db: sqlite_utils.Database, url: str, etag: str | None, last_modified: str | None,
             registry_modified: str | None, crawl_id: int, grants: int, content_hash: str | None = None,
             scope: str | None = None) -> None:
    """Record a file's validators (and the hash of its content) after it was downloaded and parsed without error.
    `grants` is the number of records the file gave (the column kept its first name)."""
    with db.conn:
        db["download_state"].upsert({"url": url, "etag": etag, "last_modified": last_modified,
                                     "registry_modified": registry_modified, "crawl_id": crawl_id,
                                     "grants": grants, "content_hash": content_hash, "scope": scope},
                                    pk="url", alter=True)


def content_key(body_sha256: str | None, labels: str) -> str | None:
    """Return what must match for a downloaded file to count as unchanged: its bytes, and labels such as its
    licence and publisher (a file relicensed with the same bytes is read again)."""
    if not body_sha256:
        return None
    return f"{body_sha256}:{hashlib.sha1(labels.encode()).hexdigest()[:16]}"


def keep(db: sqlite_utils.Database, url: str, crawl_id: int) -> None:
    """Carry a not-modified file's validators into this crawl, so they stay trusted after it."""
    with db.conn:
        db.execute("update download_state set crawl_id = ? where url = ?", [crawl_id, url])


def touch_records(db: sqlite_utils.Database, table: str, source: str, url: str, crawl_id: int, now: str,
                  read_in: int) -> int:
    """Mark as seen in this crawl the records a not-modified file gave when it was last read (in crawl read_in);
    return how many. Records an older version of the file listed, and the last one no longer did, carry its URL
    too: they are not touched, so they stay missing."""
    with db.conn:
        return seen.touch_where(db, table, f"r.source = ? and r.source_url = ? and {seen.last_crawl(table)} = ?",
                                [source, url, read_in], crawl_id, now)


def known_inputs(db: sqlite_utils.Database, table: str, source: str, url: str) -> dict[str, str]:
    """Return input hash -> id of the records stored from the file at `url` that are skipped when listed again with
    the same input (a record without one is always built again). About 200 bytes of memory a record."""
    if not db[table].exists() or "input_hash" not in db[table].columns_dict:
        return {}
    rows = db.execute(f"select input_hash, id from [{table}] where source = ? and source_url = ? "
                      "and input_hash is not null", [source, url])
    return dict(rows.fetchall())


def waiting(db: sqlite_utils.Database, table: str, source: str, url: str) -> bool:
    """Say whether a record stored from the file at `url` has no input hash: it waits to be built again (its ward
    lookup failed for want of postcodes.io, or it was stored before input hashes), so the file must be read."""
    if not db[table].exists() or "input_hash" not in db[table].columns_dict:
        return False
    return db.execute(f"select 1 from [{table}] where source = ? and source_url = ? and input_hash is null limit 1",
                      [source, url]).fetchone() is not None


class InputsReading:
    """known_inputs read in a thread of its own while the file downloads: for 200,000 grants the read takes about
    0.8 s, most of it inside SQLite, which lets other threads run meanwhile. One starts when a 200's body starts to
    arrive (a 304 starts none); cancel() stops it (the same bytes again need none of it). What it reads takes about
    200 bytes a record until the file is parsed."""

    def __init__(self, path: str, table: str, source: str, url: str):
        self._conn = sqlite3.connect(path, check_same_thread=False)
        self._future: Future = Future()
        self._cancelled = False
        # SQLite asks every 10,000 steps of its machine whether to go on: once cancelled, any statement under way or
        # to come ends "interrupted" (sqlite3_interrupt misses the gaps between statements).
        self._conn.set_progress_handler(lambda: self._cancelled, 10_000)
        threading.Thread(target=self._read, args=(table, source, url), daemon=True,
                         name="known-inputs").start()

    def _read(self, table: str, source: str, url: str) -> None:
        try:
            self._future.set_result(known_inputs(sqlite_utils.Database(self._conn), table, source, url))
        except BaseException as e:   # handed to result(); an interrupted read is not wanted
            self._future.set_exception(e)
        finally:
            self._conn.close()

    def result(self) -> dict[str, str]:
        return self._future.result()

    def cancel(self) -> None:
        self._cancelled = True
