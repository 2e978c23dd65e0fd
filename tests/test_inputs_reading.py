"""The stored input hashes of a file, read in a thread while it downloads: the same answer as reading them in
place, and stopped when the file turns out unchanged."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import sqlite_utils

from spiders import download_state

URL = "http://127.0.0.1/a.json"


def store(path, n):
    db = sqlite_utils.Database(path)
    db["grants"].insert_all(({"id": f"g:{i}", "source": "threesixty_giving", "source_url": URL if i % 2 else "other",
                              "input_hash": None if i % 10 == 1 else f"h{i}"} for i in range(n)), pk="id")
    return db


def test_read_in_a_thread_gives_what_a_read_in_place_gives(tmp_path):
    db = store(tmp_path / "s.db", 2000)
    reading = download_state.InputsReading(str(tmp_path / "s.db"), "grants", "threesixty_giving", URL)
    got = reading.result()
    # Hand count: odd i are of this file (1,000), of which those with i % 10 == 1 (200) have no input hash.
    assert len(got) == 800
    assert got["h3"] == "g:3" and "h1" not in got and "h2" not in got
    assert got == download_state.known_inputs(db, "grants", "threesixty_giving", URL)


def test_a_cancelled_read_stops_at_once(tmp_path):
    path = tmp_path / "s.db"
    db = sqlite_utils.Database(path)
    db.execute("create table grants (id text primary key, source text, source_url text, input_hash text)")
    with db.conn:   # 500,000 grants of one file: a read of a second or more
        db.execute("with recursive n(i) as (select 1 union all select i + 1 from n where i < 500000) "
                   "insert into grants select 'g:' || i, 'threesixty_giving', ?, 'h' || i from n", [URL])
    db.close()
    at_once = download_state.InputsReading(str(path), "grants", "threesixty_giving", URL)
    at_once.cancel()   # most likely before its thread began the read: it must not begin it
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        at_once.result()
    reading = download_state.InputsReading(str(path), "grants", "threesixty_giving", URL)
    time.sleep(0.05)   # the read is under way
    started = time.monotonic()
    reading.cancel()
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        reading.result()
    assert time.monotonic() - started < 0.5
    thread = next((t for t in threading.enumerate() if t.name == "known-inputs"), None)
    if thread is not None:
        thread.join(1)
        assert not thread.is_alive()
