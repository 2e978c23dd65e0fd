"""Conditional GET as a downloader middleware: a file unchanged since the last good crawl is not read again.

A request opts in with meta["conditional"] = {"version": ..., "labels": ...}: version is what the source's own
listing says of the file (360Giving's `modified`; "" when there is none), labels what else must match for the
file to count as the same (its licence and publisher). Before the download, the validators recorded by the last
good crawl (spiders/download_state.py) become If-None-Match / If-Modified-Since. After it, the response carries
meta["file_unchanged"]:
  "not_modified"  the server answered 304;
  "same_content"  a 200 whose bytes (sha256, taken while downloading or here) are those of the last good crawl,
                  so a server that ignores conditional GET costs a download, not a parse;
and meta["file_content"], the content key to remember. A file read again whose request names its records' table and
source (meta["conditional"]["inputs"]) gets meta["known_inputs"]: the input hashes of the records stored from it,
each with its id, so the spider need not parse a record whose bytes are unchanged (read while the body downloads,
from when it starts to arrive, and dropped if the file turns out unchanged). Such a file is read whole,
however unchanged, while a record of it has no input hash (its ward lookup failed for want of postcodes.io). The
spider then yields a FileState item; the store side (spiders/pipelines/file_state.py) remembers validators and
counts the unchanged file's records as seen.
"""
from __future__ import annotations

import hashlib
import sqlite3

from spiders import download_state, file_download
from spiders.pipelines.context import crawl_context


class ConditionalGetMiddleware:
    def __init__(self, crawler):
        self.crawler = crawler
        self._known: dict | None = None

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        crawler.signals.connect(middleware.body_started, signal=file_download.body_started)
        return middleware

    def known(self) -> dict:
        if self._known is None:   # read once per crawl, on the first conditional request
            self._known = download_state.load(self.db())
        return self._known

    def process_request(self, request, spider=None):
        wanted = request.meta.get("conditional")
        if wanted is None or "conditional_state" in request.meta:
            return None
        state = self.known().get(request.url)
        if state and wanted.get("inputs") and download_state.waiting(self.db(), *wanted["inputs"], request.url):
            # Records of it wait to be built again (a ward lookup failed): read it whole, even if unchanged.
            state = {**state, "etag": None, "last_modified": None, "content_hash": None}
            self.crawler.stats.inc_value("conditional/waiting")
        request.meta["conditional_state"] = state or {}
        headers = download_state.conditional_headers(state, wanted.get("version"))
        for name, value in headers.items():
            request.headers[name] = value
        if 304 not in request.meta.setdefault("handle_httpstatus_list", []):
            request.meta["handle_httpstatus_list"] = [*request.meta["handle_httpstatus_list"], 304]
        self.crawler.stats.inc_value("conditional/asked" if headers else "conditional/full")
        return None

    def body_started(self, request) -> None:
        """A 200's body starts to arrive: read the input hashes stored from the file meanwhile, if it was read before
        (a retry keeps the read already started)."""
        wanted, state = request.meta.get("conditional") or {}, request.meta.get("conditional_state") or {}
        if not (wanted.get("inputs") and state.get("crawl_id")) or "inputs_reading" in request.meta:
            return
        path = self.db().execute("pragma database_list").fetchone()[2]
        if path:   # a file on disk, not a database in memory
            request.meta["inputs_reading"] = download_state.InputsReading(path, *wanted["inputs"], request.url)
            self.crawler.stats.inc_value("conditional/inputs_read_while_downloading")

    def process_response(self, request, response, spider=None):
        wanted = request.meta.get("conditional")
        if wanted is None:
            return response
        reading = request.meta.pop("inputs_reading", None)
        if reading and response.status != 200:
            reading.cancel()
        if response.status == 304:
            request.meta["file_unchanged"] = "not_modified"
            self.crawler.stats.inc_value("conditional/not_modified")
            return response
        if response.status != 200:
            return response
        sha256 = request.meta.get("body_sha256") or hashlib.sha256(response.body).hexdigest()
        content = download_state.content_key(sha256, wanted.get("labels") or "")
        request.meta["file_content"] = content
        state = request.meta.get("conditional_state") or {}
        if content and content == state.get("content_hash"):
            request.meta["file_unchanged"] = "same_content"
            self.crawler.stats.inc_value("conditional/same_content")
            if reading:
                reading.cancel()
        elif wanted.get("inputs") and state.get("crawl_id"):   # read again: say which inputs are stored already
            request.meta["known_inputs"] = self.known_inputs(reading, *wanted["inputs"], response.url)
        return response

    def known_inputs(self, reading, table: str, source: str, url: str) -> dict[str, str]:
        if reading:
            try:
                return reading.result()
            except sqlite3.Error:   # read here instead
                pass
        return download_state.known_inputs(self.db(), table, source, url)

    def db(self):
        return crawl_context(self.crawler).store.db
