"""Test helper: run a real crawl (child process, real HTTP to a local replay server) and its closures step."""
from __future__ import annotations

import json
from pathlib import Path

from core.config import load
from db.store import init_public
from monitor.changes.closures import apply_crawl
from monitor.changes.crawl import run_crawl
from tests.crawling import replay_env


def write_config(path: Path, **values) -> Path:
    """Write a TOML settings file (the crawl child reads settings from a file, not from the parent)."""
    lines = [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def crawl(source: str, db_path, server, now: str, config_path=None, start_url: str | None = None,
          scrapy: dict | None = None):
    """Crawl `source` from the replay server as of `now`, apply closures; return (result, db, event ids)."""
    settings = load(config_path)
    env = replay_env(server, **(scrapy or {}))
    result = run_crawl(source, db_path, settings, now, start_url=start_url or server.url, config_path=config_path,
                       extra_env=env, timeout=120)
    db = init_public(db_path)
    return result, db, apply_crawl(db, result.crawl_id, settings, now)


def events(db, crawl_id: int, kind: str) -> list[dict]:
    return list(db.query("select * from events where crawl_id = ? and kind = ? order by ref", [crawl_id, kind]))
