"""Helpers for tests that crawl through the replay server: fast Scrapy settings and settings pointing at it."""
from __future__ import annotations

import json

from core.config import load

FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_TIMES": 1, "DOWNLOAD_TIMEOUT": 5,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
        "LBM_ALLOW_PRIVATE_ADDRESSES": True}   # the replay server is on 127.0.0.1


def replay_env(server, **scrapy) -> dict:
    """Environment for crawl children: fast local crawling (FAST, with any overrides), postcodes.io on the replay
    server."""
    return {"LBM_SCRAPY_SETTINGS": json.dumps({**FAST, **scrapy}), "LBM_POSTCODES_URL": server.url}


def replay_settings(server, **overrides) -> dict:
    settings = load(None, environ={"LBM_POSTCODES_URL": server.url})
    settings.update(overrides)
    return settings
