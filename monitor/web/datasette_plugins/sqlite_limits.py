"""Datasette plugin: SQLite limits on every connection, so one GET cannot make the server allocate gigabytes.

`?sql=select randomblob(1000000000)` would otherwise build a 1 GB value (and its JSON) for one request. With a
32 MB cap on any string or blob SQLite answers "string or blob too big" at once. The cap sits above any value a
crawl stores (fields are capped far lower, db/fields.py) with room for one put there by hand (a 20 MB title still
shows). The rows a query may return are capped by Datasette's `max_returned_rows` and `sql_time_limit_ms`
(settings.json), and the whole process by an address-space ceiling set when it is started (`serve_memory_mb`).
Built-ins that one call keeps busy past the time limit (printf widths, instr, like, glob) are bounded, and
`fts3_tokenizer` and the database's file path refused (db/datasette/sql_functions.py).
"""
import sqlite3

from datasette import hookimpl

from db.datasette import sql_functions

MAX_VALUE_BYTES = 32 * 1000 * 1000   # far above any record (the largest stored JSON is a few kB)
MAX_SQL_BYTES = 100 * 1000           # a hand-written query, not a payload
MAX_COMPOUND_SELECTS = 50
MAX_EXPR_DEPTH = 200
MAX_LIKE_PATTERN = 1_000             # a search term, not a document


@hookimpl
def prepare_connection(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, MAX_COMPOUND_SELECTS)
    conn.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, MAX_EXPR_DEPTH)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, MAX_LIKE_PATTERN)
    sql_functions.register(conn)
