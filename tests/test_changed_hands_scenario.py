"""The held-out scenario end to end, through the command line against the replay server (tests/fhrs_scenario.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import fhrs_scenario
from tests.crawling import replay_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def replay(fhrs_replay):
    return fhrs_replay


def run(tmp_path, server, *args) -> subprocess.CompletedProcess:
    """Run run.py as a user would, from another directory, with relative database paths."""
    env = {**os.environ, **replay_env(server)}
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "--db", "lb.db", "--private-db", "p.db",
                           "--config", "c.toml", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)


def test_six_closed_and_five_changed_hands_through_a_truncated_crawl(replay, tmp_path):
    (tmp_path / "c.toml").write_text('fhrs_authorities = ["Halton"]\n', encoding="utf-8")
    files = fhrs_scenario.stages()
    weeks = [("before", "2024-01-01"), ("after", "2024-01-08"), ("truncated", "2024-01-15"),
             ("after", "2024-01-22"), ("after", "2024-01-29")]
    health = []
    for stage, day in weeks:
        replay.fhrs.override[fhrs_scenario.CODE] = files[stage]
        proc = run(tmp_path, replay, "crawl", "fhrs_pubs", "--start-url", replay.url, "--now", f"{day}T05:00:00",
                   "--no-alerts")
        health.append(proc.stdout.strip().rsplit("health ", 1)[-1].split(" ")[0])
    assert health == ["ok", "ok", "failed", "ok", "ok"], health
    proc = run(tmp_path, replay, "events", "--json")
    assert proc.returncode == 0, proc.stderr
    events = [e for e in json.loads(proc.stdout) if e["kind"] in ("closed", "changed_hands")]
    closed = {e["ref"] for e in events if e["kind"] == "closed"}
    changed = {e["ref"]: e["evidence"] for e in events if e["kind"] == "changed_hands"}
    assert len(events) == 11
    assert closed == set(fhrs_scenario.REMOVED)
    assert set(changed) == set(fhrs_scenario.REREGISTERED)
    assert {ref: e["new_ref"] for ref, e in changed.items()} == {
        old: new for old, (new, _) in fhrs_scenario.REREGISTERED.items()}
    assert changed["245235"]["old_name"] == "Clarendon Hotel" and changed["245235"]["new_name"] == "The Clarendon"
    assert changed["245570"]["new_name"] == "Millfield Tavern"
    assert all(e["at"].startswith("2024-01-22") for e in events)      # the second healthy crawl missing them
    # Counted once: the old registrations are neither open nor closed, the new ones are open; each pair is linked.
    from db.store import init_public
    db = init_public(tmp_path / "lb.db")
    states = dict(db.execute("select status, count(*) from pubs group by status").fetchall())
    assert states == {"open": 81 - 6 - 5 + 5, "closed": 6, "changed_hands": 5}    # 81 establishments in the file
    links = dict(db.execute("select a.ref, b.ref from pubs a join pubs b on b.id = a.succeeded_by "
                            "and b.succeeds = a.id").fetchall())
    assert links == {old: new for old, (new, _) in fhrs_scenario.REREGISTERED.items()}
