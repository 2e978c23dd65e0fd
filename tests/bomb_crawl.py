"""Crawl 360Giving from a BombServer: a registry listing one file, each answered as a test or the bench asks."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

from core.config import load
from db.store import init_public
from monitor.changes.crawl import CrawlResult, run_crawl
from spiders.replay.threesixty_giving import recorded
from tests.bomb_server import Answer, BombServer
from tests.crawling import FAST
from tests.peak_rss import PeakChildRSS
from tests.replay_crawl import write_config

NOW = "2024-06-01T00:00:00"
JSON = {"Content-Type": "application/json"}
# Without DOWNLOAD_TIMEOUT: the crawl takes the download_timeout setting. No retries: one download, one limit.
SCRAPY = {k: v for k, v in FAST.items() if k != "DOWNLOAD_TIMEOUT"} | {"RETRY_TIMES": 0}


@dataclass
class BombCrawl:
    result: CrawlResult
    stats: dict
    peak_mb: float     # the crawl child's and its children's peak RSS, summed
    seconds: float     # the whole crawl, the child's start included


def crawl_bomb(folder, answer: Answer, registry: Answer | None = None, timeout: float = 120, env=None,
               scrapy: dict | None = None, **settings) -> BombCrawl:
    """Crawl a registry listing one file served by `answer` (the registry by `registry`, if given)."""
    entry = json.loads(json.dumps(recorded()[0][0]))
    routes = {"/file.json": answer}
    config = write_config(folder / "c.toml", **{"crawl_memory_mb": 1536, **settings})
    with BombServer(routes) as server:
        entry["distribution"][0]["downloadURL"] = server.url + "/file.json"
        routes["/data.json"] = registry or Answer(200, JSON, lambda: [json.dumps([entry]).encode()])
        extra = {"LBM_SCRAPY_SETTINGS": json.dumps(SCRAPY if scrapy is None else scrapy),
                 "LBM_POSTCODES_URL": server.url, **(env or {})}
        started = time.monotonic()
        with PeakChildRSS() as rss:
            result = run_crawl("threesixty_giving", folder / "db.sqlite", load(config), NOW,
                               start_url=server.url + "/data.json", config_path=config, extra_env=extra,
                               timeout=timeout)
        seconds = time.monotonic() - started
    row = init_public(folder / "db.sqlite")["crawl_runs"].get(result.crawl_id)
    return BombCrawl(result, json.loads(row["stats"] or "{}"), rss.peak_mb, seconds)
