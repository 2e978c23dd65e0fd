"""A full disk or a database locked by another process: the crawl says so in one sentence and exits non-zero.

The full disk is SQLite's own: every connection of the command and its crawl child gets `PRAGMA max_page_count`
just above the database's size (a sitecustomize module on PYTHONPATH), so the next pages written fail with
SQLITE_FULL, "database or disk is full", as on a disk with no room left.
"""
from __future__ import annotations

import sqlite3
import threading

import pytest

from db.store import init_private
from spiders.replay.catalogue import replay_server
from tests.cli_process import error_line, run_cli
from tests.crawling import replay_env

FULL_AT = '''import sqlite3

_connect = sqlite3.connect


def connect(*args, **kwargs):
    conn = _connect(*args, **kwargs)
    conn.execute("PRAGMA max_page_count = %d")
    return conn


sqlite3.connect = connect
'''
NOW = "2020-03-30T06:00:00+00:00"


@pytest.fixture
def server():
    with replay_server() as s:
        s.clock.date = "2020-03-27"   # the mutual aid listing of that day: 2,790 groups
        yield s


@pytest.fixture
def folder(tmp_path, template_db):
    (tmp_path / "a.db").write_bytes(template_db.read_bytes())
    init_private(tmp_path / "p.db").conn.close()
    return tmp_path


def crawl(folder, server, env=None):
    return run_cli(folder, "--db", "a.db", "--private-db", "p.db", "crawl", "mutual_aid", "--no-alerts",
                   "--start-url", server.url + "/api/group/get", "--now", NOW, env={**replay_env(server), **(env or {})})


def test_a_full_disk_fails_the_crawl_saying_so_and_status_still_answers(folder, server):
    pages = sqlite3.connect(folder / "a.db").execute("pragma page_count").fetchone()[0]
    (folder / "site").mkdir()
    (folder / "site" / "sitecustomize.py").write_text(FULL_AT % (pages + 5))
    full = {"PYTHONPATH": str(folder / "site")}
    result = crawl(folder, server, full)
    assert result.returncode != 0
    assert result.stdout.strip().endswith("health failed (crawl process exited with 1: the database could not be "
                                          "written: database or disk is full)")
    assert "Traceback" not in result.stderr
    assert sqlite3.connect(folder / "a.db").execute("select count(*) from groups").fetchone()[0] == 0
    status = run_cli(folder, "--db", "a.db", "--private-db", "p.db", "status", "--now", NOW, env=full)
    assert status.returncode == 1, status.stderr     # needs a person: the last crawl failed
    assert "Traceback" not in status.stderr
    assert ("  - source mutual_aid: last crawl failed (crawl process exited with 1: the database could not be "
            "written: database or disk is full)") in status.stdout


def hold_write_lock(path, seconds: float) -> threading.Event:
    """Hold the database's write lock from another connection, in the background, until set or some seconds pass."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("begin immediate")
        locked.set()
        release.wait(seconds)
        conn.execute("rollback")
        conn.close()
    threading.Thread(target=hold, daemon=True).start()
    assert locked.wait(10)
    return release


def test_a_lock_released_within_the_busy_timeout_lets_the_crawl_write_its_row(folder, server):
    hold_write_lock(folder / "a.db", 3)
    result = crawl(folder, server)
    assert result.returncode == 0, result.stderr
    rows = sqlite3.connect(folder / "a.db").execute("select status, items from crawl_runs").fetchall()
    assert rows == [("ok", 2790)]


def test_a_lock_held_past_the_busy_timeout_is_said_in_one_sentence(folder, server):
    release = hold_write_lock(folder / "a.db", 60)
    result = crawl(folder, server, {"LBM_DB_BUSY_SECONDS": "4"})   # 30 s unless set
    release.set()
    assert result.returncode == 2
    assert error_line(result) == ("the database is locked: another process held its write lock for over 4 s, so "
                                  "nothing was written; run the command again when it ends")
    assert sqlite3.connect(folder / "a.db").execute("select count(*) from crawl_runs").fetchone()[0] == 0
