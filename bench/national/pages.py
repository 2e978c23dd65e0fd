"""Time the people's pages over the national store: the busiest ward's page and the left-behind feed, p95."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from db import serve as serve_mod
from db.store import init_public

ROOT = Path(__file__).resolve().parents[2]


def busiest_ward(db_path: Path) -> str:
    """Return the left-behind ward with the most records placed in it (pubs and grants)."""
    db = init_public(db_path)
    row = db.execute("""select w.code from wards w
                        join (select ward_code, count(*) n from pubs group by ward_code
                              union all select ward_code, count(*) from grants group by ward_code) r
                          on r.ward_code = w.code
                        where w.left_behind = 1 group by w.code order by sum(r.n) desc limit 1""").fetchone()
    return row[0]


def p95(client: httpx.Client, path: str, n: int) -> float:
    client.get(path)   # the first request warms Datasette's and SQLite's caches
    times = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - t)
        assert response.status_code == 200, (path, response.status_code)
    return float(np.percentile(times, 95))


def time_pages(out: Path, requests: int) -> dict:
    """Serve out/leftbehind.db with `run.py serve` and return the p95 seconds of the ward page and the feed."""
    ward = busiest_ward(out / "leftbehind.db")
    config = out / "pages.toml"
    config.write_text("web_requests_per_minute = 100000\n", encoding="utf-8")
    port = serve_mod.free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--db", str(out / "leftbehind.db"),
                                "--private-db", str(out / "private.db"), "--config", str(config), "serve",
                                "--port", str(port)], cwd=out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        serve_mod.wait_until_ready(process, url)
        with httpx.Client(base_url=url, timeout=60) as client:
            return {"ward": ward, "requests": requests,
                    "ward_page_p95_ms": round(p95(client, f"/wards/{ward}", requests) * 1000),
                    "left_behind_feed_p95_ms": round(p95(client, "/left-behind.atom", requests) * 1000)}
    finally:
        process.terminate()
        process.wait(timeout=15)
