"""Datasette plugin: SQLite limits on every connection, so one GET cannot make the server allocate gigabytes.

`?sql=select randomblob(1000000000)` would otherwise build a 1 GB value (and its JSON) for one request. With a
10 MB cap on any string or blob SQLite answers "string or blob too big" at once. The rows a query may return are
capped by Datasette's `max_returned_rows` and `sql_time_limit_ms` (settings.json), and the whole process by an
address-space ceiling set when it is started (setting `serve_memory_mb`).
"""
import sqlite3

from datasette import hookimpl

MAX_VALUE_BYTES = 10 * 1000 * 1000   # far above any record (the largest stored JSON is a few kB)
MAX_SQL_BYTES = 100 * 1000           # a hand-written query, not a payload
MAX_COMPOUND_SELECTS = 50
MAX_EXPR_DEPTH = 200


@hookimpl
def prepare_connection(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, MAX_COMPOUND_SELECTS)
    conn.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, MAX_EXPR_DEPTH)
