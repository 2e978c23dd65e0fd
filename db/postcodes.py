"""postcodes.io: bulk postcode lookups and place searches, with retries, cached for good in the public database.

Every answer is cached, `null` included, so a postcode or a place is asked about once. A batch that still fails
after its retries raises PostcodesError and caches nothing.
"""
from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import httpx
import sqlite_utils

from core.errors import PostcodesError

BULK_MAX = 100          # postcodes.io refuses more than 100 postcodes per bulk request
PLACES_LIMIT = 10
_SQL_CHUNK = 500        # well under SQLite's bound-parameter limit

# The UK government's postcode pattern (BS 7666), with the space already normalised to one.
POSTCODE_RE = re.compile(
    r"(GIR 0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]([0-9ABEHMNPRV-Y])?|[0-9][A-HJKPS-UW])"
    r" [0-9][ABD-HJLNP-UW-Z]{2})\Z")


def normalise_postcode(s: str | None) -> str | None:
    """Return the postcode upper-cased with one space before the inward code, or None when it is not valid."""
    if not s or not isinstance(s, str):
        return None
    compact = re.sub(r"\s+", "", s).upper()
    if not 5 <= len(compact) <= 7:
        return None
    candidate = f"{compact[:-3]} {compact[-3:]}"
    return candidate if POSTCODE_RE.match(candidate) else None


def normalise_place(s: str | None) -> str | None:
    """Return a place query trimmed, single-spaced and lower-cased (the cache key), or None when empty."""
    if not s or not isinstance(s, str):
        return None
    q = " ".join(s.split()).lower()
    return q or None


def _stamp(now) -> str:
    # fetched_at only records when an answer was cached; nothing is decided on it.
    if now is None:
        now = datetime.now(UTC)
    return now.isoformat(timespec="seconds") if isinstance(now, datetime) else str(now)


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class PostcodesClient:
    """Ask postcodes.io about postcodes and places, through the database cache."""

    def __init__(self, db: sqlite_utils.Database, settings: dict, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.db = db
        self.base = settings["postcodes_url"].rstrip("/")
        self.retries = int(settings["http_retries"])
        self.backoff = float(settings["http_backoff"])
        self.timeout = float(settings["http_timeout"])
        self._http = client
        self.headers = {"User-Agent": settings["user_agent"], "Accept": "application/json"}
        self.sleep = sleep
        self.counts: Counter[str] = Counter()

    @property
    def http(self) -> httpx.Client:
        # Made on first use: building its TLS context costs a tenth of a second that cached lookups never need.
        if self._http is None:
            self._http = httpx.Client(timeout=self.timeout)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def postcodes(self, postcodes: Iterable[str], now=None) -> dict[str, dict | None]:
        """Return the postcodes.io result (None when unknown) of each normalised postcode, cache first."""
        wanted = list(dict.fromkeys(postcodes))
        found = self._cached("postcode_cache", "postcode", wanted)
        self.counts["postcode_cache_hit"] += len(found)
        missing = [p for p in wanted if p not in found]
        for batch in _chunks(missing, BULK_MAX):
            answers = self._bulk(batch)
            self._store("postcode_cache", "postcode", answers, now)
            found.update(answers)
        return found

    def places(self, queries: Iterable[str], now=None) -> dict[str, list[dict]]:
        """Return the postcodes.io place matches (maybe empty) of each normalised place query, cache first."""
        wanted = list(dict.fromkeys(queries))
        found = self._cached("place_cache", "query", wanted)
        self.counts["place_cache_hit"] += len(found)
        for query in (q for q in wanted if q not in found):
            body = self._request("GET", "/places", params={"q": query, "limit": PLACES_LIMIT})
            matches = body.get("result") if isinstance(body, dict) else None
            if not isinstance(matches, list):
                raise PostcodesError(f"postcodes.io answered /places?q={query} without a result list")
            self._store("place_cache", "query", {query: matches}, now)
            found[query] = matches
        return {q: found[q] or [] for q in wanted}

    def _bulk(self, batch: list[str]) -> dict[str, dict | None]:
        body = self._request("POST", "/postcodes", json={"postcodes": batch})
        items = body.get("result") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise PostcodesError("postcodes.io answered a bulk lookup without a result list")
        answers = {item.get("query"): item.get("result") for item in items if isinstance(item, dict)}
        if set(answers) != set(batch):
            raise PostcodesError(f"postcodes.io answered {len(answers)} of {len(batch)} postcodes in a bulk lookup")
        self.counts["postcode_requests"] += 1
        return answers

    def _request(self, method: str, path: str, **kwargs):
        """Send one request, retrying 429, 5xx, broken bodies and connection errors with exponential backoff."""
        url = self.base + path
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.counts["http_retries"] += 1
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                resp = self.http.request(method, url, headers=self.headers, **kwargs)
            except httpx.TransportError as e:
                problem = f"{type(e).__name__}: {e}"
                continue
            if resp.status_code == 429 or resp.status_code >= 500:
                problem = f"HTTP {resp.status_code}"
                continue
            if resp.status_code != 200:
                raise PostcodesError(f"postcodes.io refused {method} {path}: HTTP {resp.status_code} {resp.text[:200]}")
            try:
                return resp.json()
            except ValueError:
                problem = "a response that is not JSON"
        raise PostcodesError(f"postcodes.io failed {method} {path} after {self.retries + 1} attempts ({problem})")

    def _cached(self, table: str, key: str, wanted: list[str]) -> dict:
        found: dict = {}
        for chunk in _chunks(wanted, _SQL_CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"select [{key}], result from [{table}] where [{key}] in ({marks})", chunk)
            found.update({k: json.loads(v) for k, v in rows.fetchall()})
        return found

    def _store(self, table: str, key: str, answers: dict, now) -> None:
        at = _stamp(now)
        rows = [{key: k, "result": json.dumps(v), "fetched_at": at} for k, v in answers.items()]
        self.db[table].upsert_all(rows, pk=key)
