"""Shared fixtures: fresh databases in a temporary folder, the replay server, the fast crawl settings.

replay_server(*routes): a replay server on 127.0.0.1 serving the routes and postcodes.io's, stopped after the test.
The one fast-crawl setting is tests/crawling.py: FAST, and replay_env(server, **overrides), the environment of a
crawl child pointed at the replay server.
"""
from __future__ import annotations

import os
import shutil

import pytest

# No test may reach the internet: anything left pointing at postcodes.io by accident fails fast on a closed
# local port instead (tests that need postcodes.io start the replay server and point at it).
os.environ.setdefault("LBM_POSTCODES_URL", "http://127.0.0.1:9")
# The replay servers are local, so crawls need no politeness pacing; tests of the rate limit set it themselves.
os.environ.setdefault("LBM_POSTCODES_RATE", "0")

from db.store import init_private, init_public
from spiders import registry  # noqa: F401  (the store learns its record tables from the sources)
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer
from spiders.replay.snapshots import ReplayClock
from spiders.sources.fhrs_pubs.replay import FhrsReplay

# The session fails if a test leaves generated files in the checkout (tests write only into temporary folders).
pytest_plugins = ["tests.repo_guard"]


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """A migrated public database with the reference geography, built once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "leftbehind.db"
    db = init_public(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "leftbehind.db"


@pytest.fixture
def private_db_path(tmp_path):
    return tmp_path / "private.db"


@pytest.fixture
def fresh_db(db_path, template_db):
    """A migrated public database with the reference geography loaded."""
    shutil.copyfile(template_db, db_path)
    return init_public(db_path)


@pytest.fixture
def private_db(private_db_path):
    return init_private(private_db_path)


@pytest.fixture
def replay_server():
    started: list[ReplayServer] = []

    def start(*routes, postcodes: bool = True) -> ReplayServer:
        server = ReplayServer(routes=[*routes, *(postcodes_io.routes() if postcodes else [])]).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def fhrs_replay(replay_server):
    """The food hygiene register on a replay server, as of 2024-01-01: .clock moves it on, .fhrs overrides files."""
    clock = ReplayClock("2024-01-01")
    fhrs = FhrsReplay(clock)
    server = replay_server(*fhrs.routes())
    server.clock, server.fhrs = clock, fhrs
    return server


@pytest.fixture(autouse=True)
def no_stop_left_set():
    """Clear the scheduler's stop flag around each test: a test that signalled a loop to stop must not make the
    next test's jobs in the same worker process skip their steps."""
    from monitor.scheduling.stop import STOP
    STOP.clear()
    yield
    STOP.clear()
