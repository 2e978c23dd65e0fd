"""The spiders form a standard Scrapy project: `scrapy list` and `scrapy crawl NAME -s LBM_DB=...` work as-is."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from monitor.changes.crawl import run_crawl
from spiders.replay.catalogue import replay_server
from spiders.sources.mutual_aid.replay import WIKI_PATH
from tests.crawling import replay_env, replay_settings

ROOT = Path(__file__).resolve().parent.parent


def scrapy(*args, env=None, timeout=300):
    """Run the scrapy command in the repository, as a Scrapy user would."""
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def rows(db) -> set[tuple]:
    return {(r["ref"], r["name"], r["ward_code"], r["content_hash"]) for r in db["groups"].rows}


def test_scrapy_list_prints_the_five_spiders():
    out = scrapy("list")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["fhrs_pubs", "libraries", "library_news", "mutual_aid", "threesixty_giving"]
    assert "several spiders with the same name" not in out.stderr


@pytest.fixture
def server():
    with replay_server() as s:
        s.clock.date = "2020-03-27"
        yield s


def test_scrapy_crawl_stores_every_group_from_settings_alone(server, tmp_path):
    db_path = tmp_path / "plain.db"
    out = scrapy("crawl", "mutual_aid", "-a", f"start_url={server.url}{WIKI_PATH}", "-s", f"LBM_DB={db_path}",
                 "-s", "LBM_NOW=2020-03-30T06:00:00+00:00", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
                 "-s", "LBM_ALLOW_PRIVATE_ADDRESSES=true",   # the replay server is on 127.0.0.1
                 env={"LBM_POSTCODES_URL": server.url})
    assert out.returncode == 0, out.stderr
    # The same spider and pipelines as the monitor's own crawl: the same rows, resolved to the same wards.
    expected = run_crawl("mutual_aid", tmp_path / "monitor.db", replay_settings(server), "2020-03-30T06:00:00+00:00",
                         start_url=server.url + WIKI_PATH, extra_env=replay_env(server))
    monitor_db = sqlite_utils.Database(tmp_path / "monitor.db")
    db = sqlite_utils.Database(db_path)
    assert expected.counts["items"] > 2700
    assert rows(db) == rows(monitor_db)
    assert len(rows(db)) == expected.counts["new"]
    run = db["crawl_runs"].get(1)       # a plain `scrapy crawl` still records its run, with the crawl stats
    assert (run["source"], run["status"], run["now"]) == ("mutual_aid", "finished", "2020-03-30T06:00:00+00:00")
    assert json.loads(run["stats"])["scope/mutual_aid/items"] == db["groups"].count
    assert {r["last_crawl_id"] for r in db["groups"].rows} == {1}


def test_scrapy_crawl_without_a_database_says_what_to_set(server):
    out = scrapy("crawl", "mutual_aid", "-a", f"start_url={server.url}{WIKI_PATH}")
    assert "set LBM_DB" in out.stderr
    assert ("GET", WIKI_PATH, 200) not in server.log     # nothing fetched that could not be stored
