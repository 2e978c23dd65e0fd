"""The national week at a small scale: every planted change found, nothing false, the open pubs as the files say."""
from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pubs_in_register_files(folder: Path) -> tuple[int, int]:
    """Count the files and the establishments of business type 7843 they list, parsing each file whole."""
    files = sorted(folder.glob("FHRS*en-GB.xml"))
    pubs = sum(1 for path in files for e in ET.parse(path).getroot().iter("EstablishmentDetail")
               if e.findtext("BusinessTypeID") == "7843")
    return len(files), pubs


def test_a_national_week_at_scale_0_002_finds_every_planted_change_and_nothing_else(tmp_path):
    out = tmp_path / "national"
    run = subprocess.run([sys.executable, "-m", "bench.national_week", "--scale", "0.002", "--weeks", "3",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["false"] == 0 and report["missed"] == 0, (report["false_examples"], report["missed_examples"])
    assert report["planted"] == report["found"]
    # By hand: 0.002 x 1,000,000 grants = 2,000; 1% of them retitled in each of weeks 2 and 3 = 40 `changed`.
    assert report["grants"] == 2000 and report["planted"]["threesixty_giving/changed"] == 40
    # One file cut short and one renumbered (week 2), one publisher gone: each planted once.
    assert report["planted"]["fhrs_pubs/unhealthy"] == 2
    assert report["planted"]["threesixty_giving/publisher_gone"] == 1
    # Three library closures dated this year and three announced for next, in each of weeks 2 and 3.
    assert report["planted"]["libraries/closed"] == report["planted"]["libraries/announced"] == 6
    assert all(report["planted"][f"fhrs_pubs/{kind}"] > 0 for kind in ("closed", "changed_hands", "changed", "new"))
    with open(ROOT / "bench/data/ons_pubs_2018_england_lads.csv", newline="", encoding="utf-8") as f:
        authorities = sum(1 for _ in csv.DictReader(f))
    files, pubs = pubs_in_register_files(out / "sources" / "week-3" / "fhrs")
    assert files == authorities == 326
    with sqlite3.connect(out / "leftbehind.db") as db:
        stored = db.execute("select count(*) from pubs where status = 'open'").fetchone()[0]
        # Every English authority was crawled, and in the last week every one was healthy.
        scopes = db.execute("select count(distinct scope), sum(healthy) from scope_runs where source = 'fhrs_pubs' "
                            "and crawl_id = (select max(id) from crawl_runs where source = 'fhrs_pubs')").fetchone()
    assert stored == pubs
    assert scopes == (326, 326)
