"""fhrs_pubs: the parser on real file shapes, and crawls of the real Wandsworth list through the replay server."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from spiders.sources.fhrs_pubs.fhrs_xml import authorities_in_scope, escape_bare_ampersands, is_pub, parse_xml
from tests.replay_crawl import crawl, events, write_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "fixtures" / "fhrs" / "fhrs_open_data_file_FHRSxxxen-GB_example.xml"
CHECKED = ROOT / "spiders" / "sources" / "fhrs_pubs" / "data" / "open_pubs" / "open_pubs_wandsworth_checked.csv"


def checked_list() -> tuple[set[str], set[str]]:
    """Return (all Wandsworth FHRS ids, those marked CLOSED) from the hand-checked list, read independently."""
    rows = list(csv.DictReader(io.StringIO(CHECKED.read_bytes().decode("cp1252"))))
    rows = [r for r in rows if r["BOROUGH"].strip() == "Wandsworth"]
    return {r["INDEX"] for r in rows}, {r["INDEX"] for r in rows if r["CLOSED"].strip().lower() == "yes"}


def test_parse_real_example_file_nil_dates_and_missing_geocodes():
    establishments, header = parse_xml(EXAMPLE.read_bytes())
    assert header["ItemCount"] == "3" and header["ampersands_fixed"] == 0
    by_id = {e["fhrsid"]: e for e in establishments}
    assert by_id["1777436"]["rating_date"] is None                      # xsi:nil
    assert by_id["1889918"]["latitude"] is None                         # <Geocode />
    assert (by_id["1608170"]["latitude"], by_id["1608170"]["longitude"]) == ("57.14955652", "-2.10076438")
    assert by_id["1608170"]["address"] == "George Street, Aberdeen"
    assert not any(is_pub(e) for e in establishments)                   # no 7843 among them


def test_unescaped_ampersand_is_fixed_and_counted():
    body = (b"<FHRSEstablishment><Header><ReturnCode>Success</ReturnCode></Header><EstablishmentCollection>"
            b"<EstablishmentDetail><FHRSID>1</FHRSID><BusinessName>Fish & Chips &amp; Ale &#38; Co</BusinessName>"
            b"<BusinessTypeID>7843</BusinessTypeID></EstablishmentDetail></EstablishmentCollection>"
            b"</FHRSEstablishment>")
    assert escape_bare_ampersands(body)[1] == 1
    (pub,), header = parse_xml(body)
    assert pub["name"] == "Fish & Chips & Ale & Co" and header["ampersands_fixed"] == 1 and is_pub(pub)


def test_truncated_file_is_an_error():
    body = EXAMPLE.read_bytes()
    with pytest.raises(ValueError, match="does not parse"):
        parse_xml(body[: len(body) // 2])


def test_authorities_in_scope():
    rows = [{"Name": "Wandsworth", "LocalAuthorityIdCode": "905", "RegionName": "London", "FileName": "x"},
            {"Name": "Aberdeen City", "LocalAuthorityIdCode": "760", "RegionName": "Scotland", "FileName": "y"},
            {"Name": "England", "LocalAuthorityIdCode": "", "RegionName": "England", "FileName": None}]
    assert [a["Name"] for a in authorities_in_scope(rows, [])[0]] == ["Wandsworth"]
    chosen, missing = authorities_in_scope(rows, ["760", "Nowhere"])
    assert [a["Name"] for a in chosen] == ["Aberdeen City"] and missing == ["Nowhere"]


@pytest.fixture
def replay(fhrs_replay):
    return fhrs_replay


def test_wandsworth_closures_exactly_the_checked_pubs_then_reopened(replay, db_path, tmp_path):
    config = write_config(tmp_path / "c.toml", fhrs_authorities=["Wandsworth"])
    every, closed = checked_list()
    first, db, _ = crawl("fhrs_pubs", db_path, replay, "2024-01-01T05:00:00", config)
    assert first.status == "ok" and first.counts["items"] == len(every) == 146
    assert {e["ref"] for e in events(db, first.crawl_id, "new")} == every
    assert all(e["baseline"] == 1 for e in events(db, first.crawl_id, "new"))
    pub = db["pubs"].get("fhrs_pubs:543405")
    assert (pub["name"], pub["postcode"], pub["scope"], pub["authority_code"]) == ("Amiga", "SW11 1EG",
                                                                                   "Wandsworth", "905")
    assert pub["ward_code"] and pub["latitude"] == pytest.approx(51.460959)
    assert db["pubs"].get("fhrs_pubs:543336")["latitude"] is None      # the source's "no location" sentinel

    replay.clock.date = "2024-02-01"
    second, db, ids = crawl("fhrs_pubs", db_path, replay, "2024-02-01T05:00:00", config)
    assert second.counts["items"] == 128 and not events(db, second.crawl_id, "closed")
    assert db.execute("select count(*) from pubs where missing_count = 1").fetchone()[0] == 18

    replay.clock.date = "2024-03-01"
    third, db, _ = crawl("fhrs_pubs", db_path, replay, "2024-03-01T05:00:00", config)
    closures = events(db, third.crawl_id, "closed")
    # The third file is the second's bytes again: not read (conditional GET's hash), its 128 pubs touched as
    # listed, and the 18 an older version of the file had stay missing, so they close.
    assert json.loads(db["crawl_runs"].get(third.crawl_id)["stats"])["fhrs/same_content"] == 1
    assert {e["ref"] for e in closures} == closed and len(closed) == 18
    assert {r["ref"] for r in db.query("select ref from pubs where status = 'closed'")} == closed
    evidence = json.loads(closures[0]["evidence"])
    assert evidence == {"rule": "missing from 2 consecutive healthy crawls of Wandsworth",
                        "crawl_ids": [second.crawl_id, third.crawl_id]}
    assert closures[0]["baseline"] == 0 and all(e["at"] == "2024-03-01T05:00:00" for e in closures)
    angel = db["pubs"].get("fhrs_pubs:545560")
    assert (angel["name"], angel["closed_by"], angel["closed_at"]) == ("The Angel", "absence", "2024-03-01T05:00:00")

    replay.fhrs.override["905"] = (ROOT / "spiders/sources/fhrs_pubs/data/FHRS905en-GB_2024-01-01.xml").read_bytes()
    fourth, db, _ = crawl("fhrs_pubs", db_path, replay, "2024-04-01T05:00:00", config)
    assert {e["ref"] for e in events(db, fourth.crawl_id, "reopened")} == closed
    assert db.execute("select count(*) from pubs where status = 'closed' or closed_at is not null "
                      "or missing_count != 0").fetchone()[0] == 0


def test_json_route_pages_and_gives_the_same_pubs(replay, db_path, tmp_path):
    config = write_config(tmp_path / "c.toml", fhrs_authorities=["905"], fhrs_route="json")
    result, db, _ = crawl("fhrs_pubs", db_path, replay, "2024-01-01T05:00:00", config,
                          scrapy={"FHRS_PAGE_SIZE": 50})
    assert result.status == "ok" and result.counts["items"] == 146
    assert len(replay.requests("/Establishments")) == 3                 # 146 pubs in pages of 50
    assert {r["ref"] for r in db.query("select ref from pubs")} == checked_list()[0]
    assert db["pubs"].get("fhrs_pubs:543405")["address"] == "56A Battersea Rise, London"
