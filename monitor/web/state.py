"""What the people's pages need at run time: settings, database paths, templates, and the per-client limits.

`run.py serve` hands the paths and config file to the Datasette process in LBM_DB, LBM_PRIVATE_DB and LBM_CONFIG
(the variables the command line reads too). The private path is only ever opened, never put in a page.
"""
from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import jinja2
import markupsafe
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from core import config as config_mod
from db.fields import http_url
from monitor.delivery.text import strip_unsafe

SHOWN_LIMIT = 2_000   # characters of one value on a page: a long name, a paragraph
TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "web"


class RateLimiter:
    """At most `limit` hits per client in any `window` seconds: a moving window, kept in memory by `limits`."""

    def __init__(self, limit: int, window: float = 60.0):
        self.item = RateLimitItemPerSecond(limit, max(1, round(window)))
        self.strategy = MovingWindowRateLimiter(MemoryStorage())   # expires idle clients by itself

    def allow(self, key: str) -> bool:
        return self.strategy.hit(self.item, key)


def shown(value):
    """Return a value as a page shows it: without control or bidi characters (as in mail), at most SHOWN_LIMIT long.

    Every `{{ ... }}` of the web templates passes here (Jinja's finalize), so a name with U+202E from a source
    cannot reorder the words around it, and a 20 MB title put into the database by hand shows as its start."""
    if isinstance(value, markupsafe.Markup) or not isinstance(value, str):
        return value   # markup the code built (the chart), or a number
    if len(value) > SHOWN_LIMIT:
        value = value[: SHOWN_LIMIT - 1] + "…"
    return strip_unsafe(value)


class WebState:
    def __init__(self, environ=None, clock=None):
        environ = os.environ if environ is None else environ
        self.settings = config_mod.load(environ.get("LBM_CONFIG") or None, environ)
        self.db_path = Path(environ.get("LBM_DB") or "./leftbehind.db")
        self.private_db_path = Path(environ.get("LBM_PRIVATE_DB") or "./private.db")
        self.clock = clock or (lambda: datetime.now(UTC))
        self.limiter = RateLimiter(int(self.settings["web_requests_per_minute"]),
                                   float(self.settings["web_rate_window_seconds"]))
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html"]),
                                      undefined=jinja2.StrictUndefined, finalize=shown)
        self.env.filters["http_url"] = http_url   # `{{ url | http_url }}`: a source URL only if it may be a link

    @property
    def base_url(self) -> str:
        return self.settings["web_url"].rstrip("/")

    def render(self, name: str, **context) -> str:
        return self.env.get_template(name).render(**context)

    def private_db(self):
        from db.store import init_private
        return init_private(self.private_db_path)

    def public_db(self):
        import sqlite_utils
        return sqlite_utils.Database(self.db_path)

    @cached_property
    def resolver(self):
        from geo.resolver import Resolver
        return Resolver(self.public_db(), self.settings)


_state: WebState | None = None
_lock = threading.Lock()


def get_state() -> WebState:
    global _state
    with _lock:
        if _state is None:
            _state = WebState()
        return _state
