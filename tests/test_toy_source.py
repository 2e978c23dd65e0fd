"""Adding a source is one spider module, its replay route and tests: a toy source proves it.

The toy module is written into a temporary folder (outside the repository) and named in LBM_SPIDER_MODULES. No
other file of the project is edited, yet Scrapy lists it, a crawl stores its records, its closures follow the
rule it declares, and the coverage, alerts, source health and Datasette metadata all know it by its own words.
"""
from __future__ import annotations

import email
import json
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from monitor.delivery import subscriptions
from monitor.delivery.mailer import MaildirTransport
from monitor.indicators.coverage import counted_sources
from monitor.reports import alerts
from monitor.reports.source_health import source_health
from spiders import registry
from spiders.replay.server import Response
from tests.delivery_seed import LB_WARD, settings
from tests.replay_crawl import crawl, events

ROOT = Path(__file__).resolve().parent.parent

TOY_MODULE = '''
"""Community pantries: a toy source, one JSON list of pantries, each with its 2017 ward code."""
import json

from spiders.sources.mutual_aid.items import Group
from spiders.tabular import FileSpider


class PantriesSpider(FileSpider):
    name = "toy_pantries"
    default_start_url = "https://pantries.example.org/pantries.json"
    item_class = Group
    label = "Community pantries"
    noun = "pantry"
    licence = "CC0 1.0"
    licence_url = "https://creativecommons.org/publicdomain/zero/1.0/"
    attribution = "The toy pantry network"
    homepage = "https://pantries.example.org/"
    closure_rule = "absence"
    subscription_kinds = {"pantry": ()}

    def items_from(self, text, response):
        for row in json.loads(text):
            yield self.stamp(Group(source=self.name, ref=row["id"], name=row["name"], ward_code=row["ward"],
                                   source_url=response.url, raw=row))
'''

# Ten pantries: a list one shorter is still healthy (a crawl under 80% of the usual count is not).
PANTRIES = [{"id": "p1", "name": "Heathway Larder", "ward": LB_WARD},
            {"id": "p2", "name": "Becontree Pantry", "ward": LB_WARD},
            *({"id": f"p{i}", "name": f"Food Share {i}", "ward": LB_WARD} for i in range(3, 11))]


@pytest.fixture
def toy_source(tmp_path, monkeypatch):
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "toy_pantries.py").write_text(TOY_MODULE, encoding="utf-8")
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
    assert (toy.table, toy.label, toy.noun, toy.closure_rule) == ("groups", "Community pantries", "pantry", "absence")
    assert registry.subscription_kinds()["pantry"] == ("toy_pantries", "pantry", ())
    assert "toy_pantries" in counted_sources()
    groups = registry.table_provenance()["groups"]
    assert "The toy pantry network" in groups["source"] and "CC0 1.0" in groups["license"]


def test_a_toy_pantry_missing_from_two_healthy_crawls_closes_and_is_alerted(toy_source, pantry_server, db_path,
                                                                           private_db, tmp_path):
    url = pantry_server.url + "/pantries.json"
    first, db, _ = crawl("toy_pantries", db_path, pantry_server, "2024-03-01T06:00:00+00:00", start_url=url)
    assert first.status == "ok"
    assert {r["name"] for r in db.query("select name from groups where source = 'toy_pantries'")} == {
        p["name"] for p in PANTRIES}
    subscriptions.subscribe(private_db, db, "pantries@example.org", wards=[LB_WARD], kinds="pantry",
                            now="2024-03-01T07:00:00+00:00")
    subscriptions.subscribe(private_db, db, "pubs@example.org", wards=[LB_WARD], kinds="pub",
                            now="2024-03-01T07:00:00+00:00")
    pantry_server.listing["rows"] = PANTRIES[1:]            # the Heathway Larder is no longer listed
    crawl("toy_pantries", db_path, pantry_server, "2024-03-08T06:00:00+00:00", start_url=url)
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
