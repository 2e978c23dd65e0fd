"""Opening a database never cancels the locks this process's other connections hold on it.

POSIX drops every lock a process holds on a file when it closes any descriptor of that file. A command that opened
the database file itself (to read its header, say) while a connection was open let another process's connection,
on closing, believe it was the last one: it checkpointed and deleted the WAL, and the commits still to come from
this process went to a deleted file (https://www.sqlite.org/howtocorrupt.html, 2.2). Seen at the national scale:
"database disk image is malformed".
"""
from __future__ import annotations

import subprocess
import sys

from db.store import connect


def test_a_second_connection_leaves_the_first_ones_lock_so_another_process_keeps_the_wal(tmp_path):
    path = tmp_path / "a.db"
    first = connect(path)
    first.execute("create table t (x)")
    first.execute("insert into t values (1)")
    first.conn.commit()
    assert (tmp_path / "a.db-wal").exists()
    connect(path)   # a second connection in the same process, as every step of a crawl job opens one
    # Another process opens and closes the database: it may checkpoint and delete the WAL only if it is the last.
    subprocess.run([sys.executable, "-c", f"import sqlite3; c = sqlite3.connect({str(path)!r}); "
                    "c.execute('select count(*) from t').fetchone(); c.close()"], check=True)
    assert (tmp_path / "a.db-wal").exists()   # this process still has it open: the WAL stays
    first.execute("insert into t values (2)")
    first.conn.commit()
    assert first.execute("select count(*) from t").fetchone()[0] == 2
