"""The hand-rolled floor for a 360Giving ingest: download, ijson -> flatten -> content hash -> insert_all (WAL).

About what a competent engineer writes in an afternoon with no geography, no quarantine and no history: the
project's ingest is measured against it (python -m bench.bench_ingest --compare). Run on its own:
    python -m bench.baseline_ingest URL DB
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile

import httpx
import ijson
import sqlite_utils


def flatten(value, prefix: str = "", out: dict | None = None) -> dict:
    """Flatten nested objects to underscore-joined keys; lists become JSON text."""
    out = {} if out is None else out
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            flatten(item, name + "_", out)
        elif isinstance(item, list):
            out[name] = json.dumps(item, ensure_ascii=False)
        else:
            out[name] = item
    return out


def ingest(url: str, db_path: str, batch: int = 1000) -> int:
    """Download url to a temporary file, load its grants into db_path's `grants`; return how many."""
    fd, path = tempfile.mkstemp(prefix="baseline-")
    with os.fdopen(fd, "wb") as out, httpx.stream("GET", url, timeout=600) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_bytes(1 << 20):
            out.write(chunk)
    db = sqlite_utils.Database(db_path)
    db.enable_wal()
    table, rows, n = db["grants"], [], 0
    try:
        with open(path, "rb") as f:
            for grant in ijson.items(f, "grants.item", use_float=True):
                row = flatten(grant)
                row["content_hash"] = hashlib.sha1(json.dumps(row, sort_keys=True).encode()).hexdigest()
                rows.append(row)
                if len(rows) == batch:
                    table.insert_all(rows, pk="id", alter=True, replace=True, batch_size=batch)
                    n, rows = n + len(rows), []
        table.insert_all(rows, pk="id", alter=True, replace=True, batch_size=batch)
    finally:
        os.unlink(path)
    return n + len(rows)


if __name__ == "__main__":
    print(ingest(sys.argv[1], sys.argv[2]))
