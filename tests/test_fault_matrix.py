"""Fault matrix: every way the pub source can break gives zero closures and a recorded unhealthy crawl.

Setup: Wandsworth crawled "before" (146 pubs), then "after" (128): 18 pubs are one healthy crawl from closing.
Each fault then runs a crawl that, were it wrongly judged healthy, would close them. Finally a healthy crawl
closes exactly the 18, so the faults neither reset nor advanced the count.
"""
from __future__ import annotations

import pytest

from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer
from spiders.replay.snapshots import ReplayClock
from spiders.sources.fhrs_pubs.replay import FhrsReplay
from spiders.sources.fhrs_pubs.replay_build import open_data_file
from tests.replay_crawl import crawl, events, write_config

FILE = "/OpenDataFiles/FHRS905en-GB.xml"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    clock = ReplayClock("2024-01-01")
    fhrs = FhrsReplay(clock)
    with ReplayServer(routes=fhrs.routes() + postcodes_io.routes()) as server:
        config = write_config(tmp / "c.toml", fhrs_authorities=["Wandsworth"])
        crawl("fhrs_pubs", tmp / "db.sqlite", server, "2024-01-01T05:00:00", config)
        clock.date = "2024-02-01"
        result, db, _ = crawl("fhrs_pubs", tmp / "db.sqlite", server, "2024-02-01T05:00:00", config)
        assert result.status == "ok"
        yield {"server": server, "fhrs": fhrs, "db_path": tmp / "db.sqlite", "config": config, "tmp": tmp}


def after_file_rows() -> bytes:
    from spiders.sources.fhrs_pubs.replay import HERE
    return (HERE / "FHRS905en-GB_2024-02-01.xml").read_bytes()


def half_the_rows() -> bytes:
    import xml.etree.ElementTree as ET
    root = ET.fromstring(after_file_rows())
    collection = root.find("EstablishmentCollection")
    for e in collection.findall("EstablishmentDetail")[::2]:
        collection.remove(e)
    return ET.tostring(root)


def faulty_crawl(world, now: str, config=None, scrapy=None):
    """Crawl with the fault in place, clear it; assert nothing closed and the Wandsworth scope unhealthy."""
    try:
        result, db, _ = crawl("fhrs_pubs", world["db_path"], world["server"], now, config or world["config"],
                              scrapy=scrapy)
    finally:
        world["server"].clear_faults()
        world["fhrs"].override.clear()
        world["fhrs"].hidden.clear()
    assert result.status == "failed"
    assert events(db, result.crawl_id, "closed") == []
    assert db.execute("select count(*) from pubs where status = 'closed'").fetchone()[0] == 0
    assert db.execute("select count(*) from pubs where missing_count = 1").fetchone()[0] == 18
    (scope,) = list(db.query("select * from scope_runs where crawl_id = ? and scope = 'Wandsworth'",
                             [result.crawl_id]))
    assert scope["healthy"] == 0 and scope["reason"]
    return scope["reason"]


def test_http_500(world):
    world["server"].set_fault(FILE, status=500)
    assert "HTTP 500" in faulty_crawl(world, "2024-02-02T05:00:00")


def test_timeout(world):
    world["server"].set_fault(FILE, delay=2.5)
    reason = faulty_crawl(world, "2024-02-03T05:00:00", scrapy={"DOWNLOAD_TIMEOUT": 1, "RETRY_TIMES": 0})
    assert "timeout" in reason or "TimeoutError" in reason


def test_truncated_xml(world):
    world["server"].set_fault(FILE, truncate=0.6)
    assert "does not parse" in faulty_crawl(world, "2024-02-04T05:00:00")


def test_empty_but_valid_file(world):
    world["fhrs"].override["905"] = open_data_file([], "Wandsworth", "905", "2024-02-05")
    assert faulty_crawl(world, "2024-02-05T05:00:00") == "no items"


def test_half_the_rows(world):
    world["fhrs"].override["905"] = half_the_rows()
    assert "under 80% of the median" in faulty_crawl(world, "2024-02-06T05:00:00")


def test_authority_missing_from_listing_when_named(world):
    world["fhrs"].hidden.add("905")
    assert faulty_crawl(world, "2024-02-07T05:00:00") == "not listed in /Authorities"


def test_authority_missing_from_listing_of_all_english(world):
    world["fhrs"].hidden.update({"901", "902", "903", "904", "905"})
    config = write_config(world["tmp"] / "all.toml", fhrs_authorities=[])
    assert faulty_crawl(world, "2024-02-08T05:00:00", config) == "absent from this crawl"


def test_healthy_crawl_after_the_faults_closes_exactly_the_missing_pubs(world):
    result, db, _ = crawl("fhrs_pubs", world["db_path"], world["server"], "2024-03-01T05:00:00", world["config"])
    assert result.status == "ok"
    assert len(events(db, result.crawl_id, "closed")) == 18
    failing = list(db.query("select * from events where kind = 'source_failing'"))
    assert len(failing) == 1 and failing[0]["source"] == "fhrs_pubs"   # once per streak of failed crawls
