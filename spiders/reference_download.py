"""Download a reference file (the postcode directory) to disk with httpx, under the crawls' fetch policy.

http(s) only, public addresses only unless `allow_private_addresses` says otherwise, every redirect checked the
same way; the body is streamed to the file, its decoded bytes counted against a limit, and the whole download
stopped when it runs past a deadline. Nothing of it is held in memory.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

import httpx

from core.errors import InputError, SourceError
from spiders.fetch_policy import allowed, refusal

MAX_BYTES = 3 << 30         # ONSPD's national CSV is about 1.5 GB, its zip about 250 MB
MAX_SECONDS = 3600.0
MAX_REDIRECTS = 5


def is_url(value: str) -> bool:
    """True when a FILE_OR_URL value names an http(s) URL rather than a path."""
    return value.split(":", 1)[0].lower() in ("http", "https") and "://" in value


def download(url: str, dest: Path, settings: dict, client: httpx.Client | None = None,
             max_bytes: int = MAX_BYTES, max_seconds: float = MAX_SECONDS,
             clock: Callable[[], float] = time.monotonic) -> int:
    """Stream url's body into dest; return the bytes written. Raise InputError (refused) or SourceError (failed)."""
    allow = allowed(settings.get("allow_private_addresses"))
    own = client is None
    client = client or httpx.Client(timeout=float(settings.get("http_timeout", 20.0)))
    headers = {"User-Agent": settings.get("user_agent", "leftbehind-monitor")}
    deadline = clock() + max_seconds
    try:
        for _ in range(MAX_REDIRECTS + 1):
            why = refusal(url, allow)
            if why:
                raise InputError(f"the postcode directory URL was {why}")
            with client.stream("GET", url, headers=headers) as resp:
                if resp.is_redirect and "location" in resp.headers:
                    url = urljoin(url, resp.headers["location"])
                    continue
                if resp.status_code != 200:
                    raise SourceError(f"the postcode directory at {url[:200]} answered HTTP {resp.status_code}")
                return _write(resp, dest, max_bytes, deadline, clock)
        raise SourceError(f"the postcode directory URL redirected more than {MAX_REDIRECTS} times")
    except httpx.HTTPError as e:
        raise SourceError(f"the postcode directory could not be downloaded: {type(e).__name__}: {e}") from None
    finally:
        if own:
            client.close()


def _write(resp: httpx.Response, dest: Path, max_bytes: int, deadline: float, clock) -> int:
    written = 0
    with open(dest, "wb") as f:
        for chunk in resp.iter_bytes(1 << 20):      # decoded bytes: a gzip transfer encoding counts in full
            written += len(chunk)
            if written > max_bytes:
                raise SourceError(f"the postcode directory is larger than {max_bytes:,} bytes: download stopped")
            if clock() > deadline:
                raise SourceError("the postcode directory took too long to download: stopped")
            f.write(chunk)
    return written
