"""What the people's pages need at run time: settings, database paths and the per-client limits, one per Datasette.

Configured through Datasette's plugin configuration (`plugins: leftbehind-monitor:` in its metadata): `config`,
the project's TOML settings file, and `private_database`, the private database's path (`{"$env": ...}` works
there); without them LBM_CONFIG and LBM_PRIVATE_DB, as on the command line, else the defaults. The public database
is the database file Datasette serves. The private path is only ever opened, never put in a page.
"""
from __future__ import annotations

import os
import threading
import weakref
from datetime import UTC, datetime
from pathlib import Path

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from core import config as config_mod
from core.errors import ConfigError

PLUGIN = "leftbehind-monitor"          # the project's name: its key under `plugins:`
OPTIONS = {"config", "private_database"}


class RateLimiter:
    """At most `limit` hits per client in any `window` seconds: a moving window, kept in memory by `limits`."""

    def __init__(self, limit: int, window: float = 60.0):
        self.item = RateLimitItemPerSecond(limit, max(1, round(window)))
        self.strategy = MovingWindowRateLimiter(MemoryStorage())   # expires idle clients by itself

    def allow(self, key: str) -> bool:
        return self.strategy.hit(self.item, key)


class WebState:
    def __init__(self, settings: dict, db_path: Path, private_db_path: Path, clock=None):
        self.settings = settings
        self.db_path = Path(db_path)
        self.private_db_path = Path(private_db_path)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.limiter = RateLimiter(int(self.settings["web_requests_per_minute"]),
                                   float(self.settings["web_rate_window_seconds"]))

    @property
    def base_url(self) -> str:
        return self.settings["web_url"].rstrip("/")

    def private_db(self):
        from db.store import init_private
        return init_private(self.private_db_path)

    def public_db(self):
        import sqlite_utils
        return sqlite_utils.Database(self.db_path)


def public_database(datasette):
    """Return the database file Datasette serves (the first one named), or None when it serves none."""
    return next((db for name, db in datasette.databases.items() if name != "_internal" and db.path), None)


def state_from(datasette, environ=None) -> WebState:
    """Return the pages' state from Datasette's plugin configuration, the environment and the defaults."""
    environ = os.environ if environ is None else environ
    options = datasette.plugin_config(PLUGIN) or {}
    if not isinstance(options, dict) or set(options) - OPTIONS:
        raise ConfigError(f"plugins.{PLUGIN} takes only {', '.join(sorted(OPTIONS))}; it has {options!r}")
    database = public_database(datasette)
    if database is None:
        raise ConfigError("Datasette serves no database file: give it the public database, e.g. leftbehind.db")
    settings = config_mod.load(options.get("config") or environ.get("LBM_CONFIG") or None, environ)
    private = options.get("private_database") or environ.get("LBM_PRIVATE_DB") or "./private.db"
    return WebState(settings, Path(database.path), Path(private))


_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def get_state(datasette) -> WebState:
    """Return the pages' state of this Datasette, made on first use."""
    with _lock:
        if datasette not in _states:
            _states[datasette] = state_from(datasette)
        return _states[datasette]
