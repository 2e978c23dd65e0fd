"""Field caps: a record with a text field over its cap is quarantined naming the field and its length, never stored."""
from __future__ import annotations

import copy
import json
from dataclasses import replace

from core.config import load
from db.fields import FIELD_CAPS, cut_long, over_caps
from db.store import connect
from monitor.changes.crawl import run_crawl
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer
from spiders.sources.threesixty_giving.replay import build_routes, recorded
from tests.crawling import replay_env

NOW = "2024-06-01T00:00:00+00:00"
ABCT = "awefw001p00000zgyHZAAY"   # A B Charitable Trust's file: 154 grants (its "grants" list, counted below)
TWENTY_MB = 20 * 1000 * 1000


def test_over_caps_names_each_field_its_length_and_cap():
    assert over_caps({"title": "t" * 1_001, "name": "n" * 500, "description": "d" * 20_001, "amount": 5.0}) == [
        ("title", 1_001, 1_000), ("description", 20_001, 20_000)]
    assert over_caps({"some_new_field": "x" * 1_001}) == [("some_new_field", 1_001, 1_000)]   # the default cap


def test_cut_long_keeps_the_start_and_says_how_long_it_was():
    assert cut_long({"a": ["x" * 1_500, 7], "b": "short"}, 10) == {"a": ["x" * 10 + "… [1,500 characters]", 7],
                                                                   "b": "short"}


def test_a_grant_with_a_20_mb_title_is_quarantined_and_the_rest_are_stored(tmp_path):
    datasets, files = recorded()
    keep = [i for i, d in enumerate(datasets) if ABCT in d["distribution"][0]["downloadURL"]]
    datasets, files = [copy.deepcopy(datasets[i]) for i in keep], [files[i] for i in keep]
    data = json.loads(files[0].path.read_text(encoding="utf-8"))
    total = len(data["grants"])
    victim = data["grants"][3]
    victim["title"] = "A" * TWENTY_MB
    bomb = tmp_path / "bomb.json"
    bomb.write_text(json.dumps(data), encoding="utf-8")
    files = [replace(files[0], path=bomb)]
    db_path = tmp_path / "db.db"
    with ReplayServer(routes=build_routes(datasets, files) + postcodes_io.routes()) as server:
        result = run_crawl("threesixty_giving", db_path, load(None), NOW, start_url=server.url + "/data.json",
                           extra_env=replay_env(server), timeout=120)
    db = connect(db_path)
    stats = json.loads(db["crawl_runs"].get(result.crawl_id)["stats"])
    # A grant's name is its title (spiders/grant_fields.py): both are over their caps.
    assert stats["validate/oversized/title"] == stats["validate/oversized/name"] == 1
    assert stats["validate/quarantined"] == 1
    assert result.counts["quarantined"] == 1
    row = next(db["quarantine"].rows)
    assert row["reason"] == (f"name is {TWENTY_MB:,} characters long (cap {FIELD_CAPS['name']:,}); "
                             f"title is {TWENTY_MB:,} characters long (cap {FIELD_CAPS['title']:,})")
    assert len(row["raw"]) < 50_000 and "20,000,000 characters" in row["raw"]
    assert db.execute("select count(*), max(length(title)) from grants").fetchone() == (total - 1,
                      max(len(g["title"]) for g in data["grants"] if g is not victim))
    assert db.execute("select count(*) from grants where id like ?", [f"%{victim['id']}"]).fetchone()[0] == 0
