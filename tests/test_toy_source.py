"""Adding a source is one folder: a toy source with its own record type proves it.

The toy's folder (its spider, item, record table migrations, indicator, wording and Datasette metadata) is written
into a temporary folder outside the repository and named in LBM_SPIDER_MODULES. No other file of the project is
edited, yet Scrapy lists it, a crawl stores its records in its own table, its closures follow the rule it
declares, and the coverage, alerts, digest, indicators, source health and Datasette metadata all know it by its
own words.
"""
from __future__ import annotations

import email
import json
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from core import config
from core.errors import ConfigError
from db import serve
from monitor.delivery import subscriptions
from monitor.delivery.mailer import MaildirTransport
from monitor.indicators.compute import compute
from monitor.indicators.coverage import counted_sources
from monitor.reports import alerts
from monitor.reports.digest import render_digest
from monitor.reports.source_health import source_health
from spiders import registry
from spiders.replay.server import Response
from tests.delivery_seed import LB_WARD, settings
from tests.replay_crawl import crawl, events

ROOT = Path(__file__).resolve().parent.parent

# The toy source: a folder of its own (a package), with its own item and record table, written outside the
# repository. Nothing else in the project names it.
TOY = {
    "__init__.py": '"""Community pantries: a toy source with its own record type."""\n',
    "items.py": '''
"""The pantry: one record of the toy pantry network's list."""
from dataclasses import dataclass
from typing import ClassVar

from spiders.items import Record


@dataclass
class Pantry(Record):
    opening_hours: str | None = None
    TABLE: ClassVar[str] = "pantries"
''',
    "records.py": '''
"""The pantries table's own schema steps."""
from db.migrations import Migrations

schema = Migrations("pantries")


@schema
def m001_open_pantries_index(db) -> None:
    db["pantries"].create_index(["source", "status", "ward_code"], index_name="idx_pantries_open",
                                if_not_exists=True)
''',
    "spider.py": '''
"""Community pantries: one JSON list of pantries, each with its 2017 ward code."""
import json

from core.setting_values import Setting
from spiders.indicators import Indicator
from spiders.tabular import FileSpider
from toy_pantries import records
from toy_pantries.items import Pantry


class PantriesSpider(FileSpider):
    name = "toy_pantries"
    default_start_url = "https://pantries.example.org/pantries.json"
    item_class = Pantry
    schema = records.schema
    label = "Community pantries"
    noun = "pantry"
    licence = "CC0 1.0"
    licence_url = "https://creativecommons.org/publicdomain/zero/1.0/"
    attribution = "The toy pantry network"
    homepage = "https://pantries.example.org/"
    closure_rule = "absence"
    subscription_kinds = {"pantry": ()}
    indicators = (Indicator("pantries_per_100k", "Open pantries", "toy_pantries", "r.status = 'open'",
                            noun="pantries"),)
    digest_section = {"title": "New community pantries", "intro": "Pantries first listed this week.",
                      "headline": ("new pantry", "new pantries")}
    ward_section = {"heading": "Community pantries", "rank": 60}
    ward_profile = ("'pantry'", "name", "first_seen_at", "coalesce(opening_hours, '')")
    options = (Setting("pantries_left_out", [], "Pantries (by the network's id) not to monitor."),)

    def items_from(self, text, response):
        left_out = set(self.option("pantries_left_out", []))
        for row in json.loads(text):
            if row["id"] in left_out:
                continue
            yield self.stamp(Pantry(source=self.name, ref=row["id"], name=row["name"], ward_code=row["ward"],
                                    opening_hours=row.get("hours"), source_url=response.url, raw=row))
''',
    "datasette.yml": """tables:
  pantries:
    description: Community pantries from the toy pantry network, one row per pantry.
    facets: [status]
    columns:
      opening_hours: When the pantry is open, as the network words it
    record_columns: true
queries:
  open_pantries:
    title: Open pantries by ward
    description: How many pantries are open in each ward.
""",
    "queries/open_pantries.sql": "select ward_code, count(*) as pantries from pantries where status = 'open' "
                                 "group by ward_code order by pantries desc\n",
}

# Ten pantries: a list one shorter is still healthy (a crawl under 80% of the usual count is not).
FRIDGE = {"id": "p11", "name": "Valence Community Fridge", "ward": LB_WARD, "hours": "Fridays 10-2"}
PANTRIES = [{"id": "p1", "name": "Heathway Larder", "ward": LB_WARD},
            {"id": "p2", "name": "Becontree Pantry", "ward": LB_WARD},
            *({"id": f"p{i}", "name": f"Food Share {i}", "ward": LB_WARD} for i in range(3, 11))]


@pytest.fixture
def toy_source(tmp_path, monkeypatch):
    folder = tmp_path / "toy"
    (folder / "toy_pantries").mkdir(parents=True)
    for name, text in TOY.items():
        (folder / "toy_pantries" / name).parent.mkdir(exist_ok=True)
        (folder / "toy_pantries" / name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", str(folder))            # the crawl child finds it too
    monkeypatch.setenv("LBM_SPIDER_MODULES", "toy_pantries")
    import importlib

    from spiders import settings as spider_settings
    importlib.reload(spider_settings)
    registry.sources.cache_clear()
    yield folder
    monkeypatch.delenv("LBM_SPIDER_MODULES")
    importlib.reload(spider_settings)
    registry.sources.cache_clear()


@pytest.fixture
def pantry_server(replay_server):
    listing = {"rows": list(PANTRIES)}

    def serve(request):
        return Response(200, json.dumps(listing["rows"]).encode(), {"Content-Type": "application/json"})

    server = replay_server(("GET", "/pantries.json", serve))
    server.listing = listing
    yield server


def test_scrapy_lists_the_toy_spider(toy_source):
    out = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == sorted(["fhrs_pubs", "libraries", "library_news", "mutual_aid",
                                         "threesixty_giving", "toy_pantries"])


def test_the_registry_reads_what_the_toy_spider_declares(toy_source):
    toy = registry.sources()["toy_pantries"]
    assert (toy.table, toy.label, toy.noun, toy.closure_rule) == ("pantries", "Community pantries", "pantry",
                                                                  "absence")
    assert registry.subscription_kinds()["pantry"] == ("toy_pantries", "pantry", ())
    assert "toy_pantries" in counted_sources()
    assert "pantries" in registry.record_table_names()
    # Datasette's metadata of its table: what its folder's datasette.yml says, its source and licence, and what
    # the columns every record table shares mean.
    tables = serve.build_metadata("x", provenance=registry.table_provenance())["databases"]["x"]["tables"]
    pantries = tables["pantries"]
    assert pantries["description"] == "Community pantries from the toy pantry network, one row per pantry."
    assert (pantries["source"], pantries["license"]) == ("The toy pantry network", "CC0 1.0")
    assert pantries["columns"]["opening_hours"] == "When the pantry is open, as the network words it"
    assert pantries["columns"]["ward_code"] == tables["groups"]["columns"]["ward_code"]
    # Its canned query, from its folder, beside the site's and with the same provenance keys.
    site = serve.build_metadata("x", extra=registry.source_queries())
    query = site["databases"]["x"]["queries"]["open_pantries"]
    assert query["title"] == "Open pantries by ward" and "from pantries" in query["sql"] and query["license"]
    assert '<a href="/x/open_pantries">Open pantries by ward</a>' in site["description_html"]


def test_the_toy_sources_own_setting_is_listed_checked_and_read_by_its_spider(toy_source, pantry_server, db_path,
                                                                            tmp_path):
    listed = subprocess.run([sys.executable, "run.py", "settings"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    assert "Settings of the `toy_pantries` source" in listed and "| `pantries_left_out` | `[]` |" in listed
    cfg = tmp_path / "toy.toml"
    cfg.write_text('pantries_left_out = ["p2", "p7"]\n', encoding="utf-8")
    result, db, _ = crawl("toy_pantries", db_path, pantry_server, "2024-03-01T06:00:00+00:00", config_path=cfg,
                          start_url=pantry_server.url + "/pantries.json")
    assert result.status == "ok"
    assert sorted(r["ref"] for r in db["pantries"].rows) == sorted(p["id"] for p in PANTRIES
                                                                   if p["id"] not in ("p2", "p7"))
    cfg.write_text('pantries_left_out = "p2"\n', encoding="utf-8")    # checked against its declaration: a list
    with pytest.raises(ConfigError, match="pantries_left_out"):
        config.load(cfg, environ={})


def test_a_toy_pantry_missing_from_two_healthy_crawls_closes_and_is_alerted(toy_source, pantry_server, db_path,
                                                                           private_db, tmp_path):
    url = pantry_server.url + "/pantries.json"
    first, db, _ = crawl("toy_pantries", db_path, pantry_server, "2024-03-01T06:00:00+00:00", start_url=url)
    assert first.status == "ok"
    # Its own record table, made by its own migrations: nothing of it in the groups table.
    assert {r["name"] for r in db.query("select name from pantries where source = 'toy_pantries'")} == {
        p["name"] for p in PANTRIES}
    assert not db.execute("select 1 from groups where source = 'toy_pantries'").fetchone()
    assert "idx_pantries_open" in {i.name for i in db["pantries"].indexes}
    subscriptions.subscribe(private_db, db, "pantries@example.org", wards=[LB_WARD], kinds="pantry",
                            now="2024-03-01T07:00:00+00:00")
    subscriptions.subscribe(private_db, db, "pubs@example.org", wards=[LB_WARD], kinds="pub",
                            now="2024-03-01T07:00:00+00:00")
    # The Heathway Larder is no longer listed; a community fridge is listed for the first time.
    pantry_server.listing["rows"] = PANTRIES[1:] + [FRIDGE]
    crawl("toy_pantries", db_path, pantry_server, "2024-03-09T06:00:00+00:00", start_url=url)
    third, db, _ = crawl("toy_pantries", db_path, pantry_server, "2024-03-15T06:00:00+00:00", start_url=url)
    closed = events(db, third.crawl_id, "closed")
    assert [e["name"] for e in closed] == ["Heathway Larder"]   # closure_rule "absence", as declared
    assert json.loads(closed[0]["evidence"])["rule"].startswith("missing from 2 consecutive healthy crawls")

    s = settings(tmp_path)
    sent = alerts.send_alerts(db, private_db, s, third.crawl_id, "2024-03-15T06:05:00+00:00",
                              transport=MaildirTransport(s["maildir"]))
    assert sent == 1                                         # the pubs subscriber is not told of pantries
    (path,) = (tmp_path / "mail" / "new").iterdir()
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert msg["To"] == "pantries@example.org"
    text = msg.get_body(("plain",)).get_content()
    assert "CLOSED pantry: Heathway Larder" in text and "Source: Community pantries (CC0 1.0)" in text

    health = {h.source: h for h in source_health(db, s, "2024-03-15T07:00:00+00:00", "2024-03-08T07:00:00+00:00",
                                                 "http://127.0.0.1")}
    assert health["toy_pantries"].label == "Community pantries" and health["toy_pantries"].state == "healthy"

    # The weekly digest heads the new pantry with the source's own words, and counts it in its headline.
    _, _, digest_text, _ = render_digest(db, s, "2024-03-15T07:00:00+00:00")
    section = digest_text[digest_text.index("NEW COMMUNITY PANTRIES (1)"):]
    assert FRIDGE["name"] in section.split("\n\n\n")[0]
    assert "1 new pantry" in digest_text and "New mutual aid groups" not in section

    # Its indicator: open pantries per 100,000 people. By hand: ten listed, one gone, one new = ten open, all in
    # Becontree (left behind); the denominator is the left-behind wards' population.
    rows = {(r["indicator"], r["area_group"]): r for r in compute(db, "2024-03-15T07:00:00+00:00", s)}
    lb = rows[("pantries_per_100k", "left_behind")]
    population = db.execute("select sum(population) from wards where left_behind = 1").fetchone()[0]
    assert (lb["numerator"], lb["population"]) == (10, population)
    assert lb["value"] == pytest.approx(10 * 100_000 / population, abs=0.01)
