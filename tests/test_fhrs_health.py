"""A bad field never makes a pub absent; another authority's file or a list of other records is unhealthy.

Real files from the replay data (Halton, 81 pubs; Hartlepool, 110), changed by hand, through the replay server.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.replay_crawl import crawl, write_config

DATA = Path(__file__).resolve().parent.parent / "spiders/sources/fhrs_pubs/data"
HALTON = (DATA / "FHRS902en-GB_2024-01-01.xml").read_bytes()
HARTLEPOOL = (DATA / "FHRS903en-GB_2024-01-01.xml").read_bytes()


def edited(body: bytes, change) -> bytes:
    """Return the file with change(detail) applied to each <EstablishmentDetail>."""
    root = ET.fromstring(body)
    for detail in root.iter("EstablishmentDetail"):
        change(detail)
    return ET.tostring(root, encoding="utf-8")


@pytest.fixture
def replay(fhrs_replay):
    return fhrs_replay


def test_a_pub_with_a_bad_date_position_or_name_is_still_listed_and_never_closed(replay, db_path, tmp_path):
    config = write_config(tmp_path / "c.toml", fhrs_authorities=["Halton"])
    crawl("fhrs_pubs", db_path, replay, "2024-01-01T05:00:00", config)

    def spoil(d):
        fhrsid = d.findtext("FHRSID")
        if fhrsid == "245068":                                   # Alchemy: a date that is no date
            rating = d.find("RatingDate")
            rating.attrib.clear()
            rating.text = "31/02/20x4"
        elif fhrsid == "245114":                                 # Ball Hotel: a latitude off the globe
            d.find("Geocode/Latitude").text = "95.5"
        elif fhrsid == "245145":                                 # Blundell Arms: no name at all
            d.find("BusinessName").text = ""
    replay.fhrs.override["902"] = edited(HALTON, spoil)
    for day in ("2024-01-08", "2024-01-15"):
        result, db, _ = crawl("fhrs_pubs", db_path, replay, f"{day}T05:00:00", config)
        assert result.status == "ok"
    # The second time the same spoilt bytes come, the file is not read again: its pubs, the spoilt three
    # included, are counted as listed (the conditional GET middleware's hash), and none closes.
    assert json.loads(db["crawl_runs"].get(result.crawl_id)["stats"])["fhrs/same_content"] == 1
    assert db.execute("select count(*) from events where kind = 'closed'").fetchone()[0] == 0
    rows = {r["ref"]: r for r in db.query("select * from pubs where ref in ('245068', '245114', '245145')")}
    assert {ref: (r["status"], r["last_crawl_id"]) for ref, r in rows.items()} == {
        ref: ("open", result.crawl_id) for ref in ("245068", "245114", "245145")}
    assert rows["245068"]["name"] == "Alchemy"
    reasons = {r["ref"]: r["reason"] for r in db.query("select ref, reason from quarantine order by id")}
    assert reasons["245068"] == "rating_date not a date: '31/02/20x4'"
    assert "95.5" in reasons["245114"] and "no name" in reasons["245145"]


def test_another_authoritys_file_makes_the_scope_unhealthy_and_closes_nothing(replay, db_path, tmp_path):
    config = write_config(tmp_path / "c.toml", fhrs_authorities=["Hartlepool"])
    crawl("fhrs_pubs", db_path, replay, "2024-01-01T05:00:00", config)
    replay.fhrs.override["903"] = HALTON                       # Hartlepool's FileName serves Halton's file
    for day in ("2024-01-08", "2024-01-15"):
        result, db, _ = crawl("fhrs_pubs", db_path, replay, f"{day}T05:00:00", config)
        assert result.status == "failed" and "81 establishments of another authority (LocalAuthorityCode 902) in the file of Hartlepool" in result.reason
    assert db.execute("select count(*) from events where kind = 'closed'").fetchone()[0] == 0
    assert db.execute("select count(*) from pubs where authority_code != '903'").fetchone()[0] == 0
    assert db.execute("select count(*) from pubs where status = 'open'").fetchone()[0] == 110


def test_a_list_of_the_right_length_but_other_records_is_unhealthy(replay, db_path, tmp_path):
    config = write_config(tmp_path / "c.toml", fhrs_authorities=["Halton"])
    crawl("fhrs_pubs", db_path, replay, "2024-01-01T05:00:00", config)
    renumbered = []

    def renumber(d):                                           # 30 of the 81 under ids never seen before
        if len(renumbered) < 30:
            renumbered.append(d.findtext("FHRSID"))
            d.find("FHRSID").text = "9" + d.findtext("FHRSID")
    replay.fhrs.override["902"] = edited(HALTON, renumber)
    result, db, _ = crawl("fhrs_pubs", db_path, replay, "2024-01-08T05:00:00", config)
    assert result.status == "failed"
    assert "only 51 of the 81 open venues known in Halton were listed" in result.reason   # 81 - 30 = 51
    assert db.execute("select count(*) from pubs where missing_count > 0").fetchone()[0] == 0


def test_the_week_after_a_renumbered_file_the_real_one_is_healthy_and_the_stray_ids_are_gone(replay, db_path,
                                                                                            tmp_path):
    config = write_config(tmp_path / "c.toml", fhrs_authorities=["Halton"])
    crawl("fhrs_pubs", db_path, replay, "2024-01-01T05:00:00", config)
    count = [0]

    def renumber(d):                                           # all 81 under ids never seen before
        count[0] += 1
        d.find("FHRSID").text = "9" + d.findtext("FHRSID")
    replay.fhrs.override["902"] = edited(HALTON, renumber)
    bad, _, _ = crawl("fhrs_pubs", db_path, replay, "2024-01-08T05:00:00", config)
    assert bad.status == "failed" and count[0] == 81
    del replay.fhrs.override["902"]                            # the register's own file again, two weeks running
    for day in ("2024-01-15", "2024-01-22"):
        result, db, new_events = crawl("fhrs_pubs", db_path, replay, f"{day}T05:00:00", config)
        assert result.status == "ok", result.reason
        assert new_events == []
    assert db.execute("select count(*) from pubs").fetchone()[0] == 81       # the 81 stray ids were only provisional
    assert db.execute("select count(*) from pubs where status = 'open'").fetchone()[0] == 81
