"""postcodes.io: bulk postcode lookups and place searches, with retries, cached for good in the public database.

Every answer is cached, `null` included, so a postcode or a place is asked about once. Bulk batches go a few at a
time (postcodes_concurrency), every request paced by one shared rate limit (postcodes_rate_per_second); HTTP runs
in worker threads, the cache is written only by the calling thread (a SQLite connection is not shared). A batch
that still fails after its retries caches nothing and raises PostcodesError once the batches already in flight
have finished; their answers are cached, so a second run asks only about the rest.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx
import sqlite_utils
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from core.errors import PostcodesError

BULK_MAX = 100          # postcodes.io refuses more than 100 postcodes per bulk request
PLACES_LIMIT = 10
_SQL_CHUNK = 500        # well under SQLite's bound-parameter limit
RETRY_AFTER_MAX = 120   # a 429 asking for a longer wait fails the batch rather than stall a crawl for it

# The UK government's postcode pattern (BS 7666), with the space already normalised to one.
POSTCODE_RE = re.compile(
    r"(GIR 0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]([0-9ABEHMNPRV-Y])?|[0-9][A-HJKPS-UW])"
    r" [0-9][ABD-HJLNP-UW-Z]{2})\Z")


class _AskAgain(Exception):
    """A failure a retry may mend: a dropped connection, a 429 or 5xx, a broken body."""


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


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Return the wait a Retry-After header asks for (seconds or an HTTP date), or None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RateLimit:
    """A token bucket of one token, shared by threads: requests start at least 1/per_second apart.

    One token (no burst) keeps the pace even at the start of a crawl. `hold` pushes the next start later for
    everyone: a Retry-After (on a 429 or a 5xx) is about this client, not just the request that got it.
    """

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / per_second if per_second and per_second > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until this caller may start a request."""
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self.sleep(start - now)

    def hold(self, seconds: float) -> None:
        """Start no request for the next `seconds`."""
        with self._lock:
            self._next = max(self._next, self.clock() + seconds)


class PostcodesClient:
    """Ask postcodes.io about postcodes and places, through the database cache."""

    def __init__(self, db: sqlite_utils.Database, settings: dict, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.db = db
        self.base = settings["postcodes_url"].rstrip("/")
        self.retries = int(settings["http_retries"])
        self.backoff = float(settings["http_backoff"])
        self.timeout = float(settings["http_timeout"])
        self.concurrency = max(1, int(settings["postcodes_concurrency"]))
        self._http = client
        self.headers = {"User-Agent": settings["user_agent"], "Accept": "application/json"}
        self.sleep = sleep
        self.limit = RateLimit(float(settings["postcodes_rate_per_second"]), sleep=sleep)
        self.counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()   # worker threads count retries and requests

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
        if missing:
            self._fetch_batches(list(_chunks(missing, BULK_MAX)), found, now)
        return {p: found[p] for p in wanted}

    def _fetch_batches(self, batches: list[list[str]], found: dict, now) -> None:
        """Ask about the batches, at most `concurrency` in flight, caching each answer here as it arrives.

        After a failure no new batch starts; those in flight finish and are cached, then the first error is raised.
        """
        _ = self.http           # made here, not raced for by the workers; an httpx.Client may be shared by threads
        queue = iter(batches)
        failure: Exception | None = None
        in_flight: set = set()
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches)),
                                thread_name_prefix="postcodes") as pool:
            while True:
                while failure is None and len(in_flight) < self.concurrency:
                    batch = next(queue, None)
                    if batch is None:
                        break
                    in_flight.add(pool.submit(self._bulk, batch))
                if not in_flight:
                    break
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    try:
                        answers = future.result()
                    except Exception as e:  # noqa: BLE001 (raised below, after the batches in flight)
                        failure = failure or e
                        continue
                    self._store("postcode_cache", "postcode", answers, now)
                    found.update(answers)
        if failure is not None:
            raise failure

    def _count(self, name: str) -> None:
        with self._counts_lock:
            self.counts[name] += 1

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
        self._count("postcode_requests")
        return answers

    def _request(self, method: str, path: str, **kwargs):
        """Send one request, retrying 429, 5xx, broken bodies and connection errors with exponential backoff.

        A Retry-After (429, 503) replaces the backoff when longer, and holds back every request of this client.
        """
        attempts = Retrying(stop=stop_after_attempt(self.retries + 1), wait=wait_exponential(self.backoff),
                            retry=retry_if_exception_type(_AskAgain), sleep=self.sleep,
                            before_sleep=lambda _: self._count("http_retries"))
        try:
            return attempts(self._attempt, method, path, kwargs)
        except RetryError as e:
            raise PostcodesError(f"postcodes.io failed {method} {path} after {self.retries + 1} attempts "
                                 f"({e.last_attempt.exception()})") from None

    def _attempt(self, method: str, path: str, kwargs: dict):
        """Send the request once: its JSON, or _AskAgain saying what went wrong that a retry may mend."""
        self.limit.wait()
        try:
            resp = self.http.request(method, self.base + path, headers=self.headers, **kwargs)
        except httpx.TransportError as e:
            raise _AskAgain(f"{type(e).__name__}: {e}") from None
        if resp.status_code == 429 or resp.status_code >= 500:
            wait_for = retry_after_seconds(resp.headers.get("Retry-After"))
            if wait_for is not None:
                if wait_for > RETRY_AFTER_MAX:
                    raise PostcodesError(f"postcodes.io asked to wait {wait_for:.0f} s before {method} {path} "
                                         f"(HTTP {resp.status_code} Retry-After); giving up")
                self.limit.hold(wait_for)
            raise _AskAgain(f"HTTP {resp.status_code}")
        if resp.status_code != 200:
            raise PostcodesError(f"postcodes.io refused {method} {path}: HTTP {resp.status_code} {resp.text[:200]}")
        try:
            return resp.json()
        except ValueError:
            raise _AskAgain("a response that is not JSON") from None

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
