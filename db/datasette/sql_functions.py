"""SQLite built-ins that one call can keep busy for minutes, bounded; and what an anonymous query may not read.

Datasette stops a query at its time limit through SQLite's progress handler, which runs between the virtual
machine's steps: one long call to a built-in is never interrupted. `printf('%.*c', 1e9, 'x')` loops a billion
times inside one call (7 s), `instr`, `like` and `glob` compare every position of a long text with a long
pattern (hours for two texts of a few MB). These are replaced, on Datasette's connections, by functions that
refuse a width or precision over MAX_WIDTH and texts whose lengths multiplied pass MAX_WORK, then ask SQLite's
own built-in (on a private in-memory connection) for the answer, so results are SQLite's to the byte.

The authorizer refuses `fts3_tokenizer` (its one-argument form answers a pointer into the process) and reads
NULL for the `file` column of `pragma_database_list` (the database's absolute path).
"""
from __future__ import annotations

import re
import sqlite3
import threading

MAX_WIDTH = 10_000             # printf width or precision: far above any table cell
MAX_WORK = 200_000_000         # length x length for instr/like/glob: under half a second
REFUSED_FUNCTIONS = frozenset({"fts3_tokenizer"})
HIDDEN_COLUMNS = frozenset({("pragma_database_list", "file")})

_SPEC = re.compile(r"%([-+ 0#,!]*)(\*|\d+)?(?:\.(\*|\d*))?(?:ll|l)?(.)?", re.S)
_local = threading.local()


class QueryRefused(ValueError):
    """A call the bounded functions refuse (SQLite reports it as the function's error)."""


def _builtin(sql: str, args) -> object:
    """Return SQLite's own answer for `select <sql>` with args, on this thread's private connection."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(":memory:", check_same_thread=False)
    return conn.execute(f"select {sql}", args).fetchone()[0]


def _number(value) -> int:
    try:
        return abs(int(value))
    except (TypeError, ValueError, OverflowError):
        return 0


def check_format(fmt, args) -> None:
    """Raise QueryRefused when any width or precision in a printf format, literal or `*`, passes MAX_WIDTH."""
    if not isinstance(fmt, str):
        return
    args = list(args)
    for match in _SPEC.finditer(fmt):
        for part in (match.group(2), match.group(3)):
            if part == "*":
                size = _number(args.pop(0)) if args else 0
            else:
                size = int(part) if part else 0
            if size > MAX_WIDTH:
                raise QueryRefused(f"printf width or precision over {MAX_WIDTH:,}")
        if match.group(4) and match.group(4) != "%" and args:
            args.pop(0)


def printf(fmt=None, *args):
    check_format(fmt, args)
    return _builtin(f"printf({', '.join('?' * (1 + len(args)))})", [fmt, *args])


def _size(value) -> int:
    return len(value) if isinstance(value, str | bytes) else len(str(value)) if value is not None else 0


def _bounded(name: str, a, b, *rest):
    if _size(a) * _size(b) > MAX_WORK:
        raise QueryRefused(f"{name}() over texts this long would run for minutes")
    return _builtin(f"{name}({', '.join('?' * (2 + len(rest)))})", [a, b, *rest])


def register(conn: sqlite3.Connection) -> None:
    """Replace the unbounded built-ins on conn and install the authorizer."""
    for name in ("printf", "format"):
        conn.create_function(name, -1, printf, deterministic=True)
    for name, arities in (("instr", (2,)), ("like", (2, 3)), ("glob", (2,))):
        for n in arities:
            conn.create_function(name, n, lambda *a, name=name: _bounded(name, *a), deterministic=True)
    conn.set_authorizer(authorize)


def authorize(action, arg1, arg2, db_name, trigger):
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_READ and ((arg1 or "").lower(), (arg2 or "").lower()) in HIDDEN_COLUMNS:
        return sqlite3.SQLITE_IGNORE   # the column reads as NULL
    return sqlite3.SQLITE_OK
