"""The mutual_aid spider through the real HTTP stack: both real formats, the sheet's quirks, identity, quarantine."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.config import load
from db.store import connect
from monitor.changes.crawl import run_crawl
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer
from spiders.replay.snapshots import ReplayClock, Snapshot, SnapshotRoute
from spiders.sources.mutual_aid.replay import HERE
from spiders.sources.mutual_aid.spider import group_ref
from tests.crawling import replay_env

SHEET_SCRAPE = HERE / "2020-03-18_covid-mutual-aid-uk-sheet_geolocated.json"
PATH = "/api/group/get"


def serve(snapshots: list[Snapshot], clock: ReplayClock) -> ReplayServer:
    return ReplayServer(routes=[("GET", PATH, SnapshotRoute(clock, snapshots))] + postcodes_io.routes())


def crawl(server, db_path, now):
    env = replay_env(server)
    return run_crawl("mutual_aid", db_path, load(None), now, start_url=server.url + PATH, extra_env=env,
                     timeout=120)


def stats_of(db, crawl_id):
    return json.loads(db["crawl_runs"].get(crawl_id)["stats"])


def write_json(path: Path, rows) -> Path:
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_sheet_csv_with_a_row_before_the_title_row(tmp_path):
    # The Sheets API's 'Form responses 1' tab has one extra row before the title row (FORMATS.md §2).
    sheet = tmp_path / "sheet.csv"
    rows = (HERE / "covidmutualaid-uk-sheet_reconstructed_first6.csv").read_text(encoding="utf-8")
    sheet.write_text("Covid-19 Mutual Aid - UK,,\n" + rows, encoding="utf-8")
    with serve([Snapshot("2020-03-18", sheet, "text/csv")], ReplayClock()) as server:
        result = crawl(server, tmp_path / "db.db", "2020-03-18T00:00:00+00:00")
    db = connect(tmp_path / "db.db")
    names = sorted(r["name"] for r in db["groups"].rows)
    assert result.status == "ok" and result.counts["new"] == 6
    assert "Group name" not in names and "Covid-19 Mutual Aid - UK" not in names
    assert "Holy Trinity, Prestwood" in names
    carrick = next(db["groups"].rows_where("name = ?", ["Carrickfergus Mutual Aid"]))
    assert carrick["ref"] == "link:facebook.com/groups/224777885338051@carrickfergus northern ireland"
    assert carrick["link"] == "https://m.facebook.com/groups/224777885338051/?ref=group_browse"


def test_wiki_api_lambda_envelope(tmp_path):
    envelope = HERE / "mutualaid-wiki_api_group_get_lambda_response_first3.json"
    groups = json.loads(json.loads(envelope.read_text())["body"])
    with serve([Snapshot("2020-05-15", envelope, "application/json")], ReplayClock()) as server:
        result = crawl(server, tmp_path / "db.db", "2020-05-16T00:00:00+00:00")
    db = connect(tmp_path / "db.db")
    stored = {r["source_id"]: r for r in db["groups"].rows}
    assert result.counts["new"] == 3 and set(stored) == {g["id"] for g in groups}
    first = stored[groups[0]["id"]]
    assert (first["name"], first["latitude"], first["updated_at"]) == (
        groups[0]["name"], groups[0]["location_coord"]["lat"], groups[0]["updated_at"])


@pytest.fixture(scope="module")
def two_snapshots(tmp_path_factory):
    """Rows 0-20 of the geolocated 18 March scrape (header echo, a duplicate listing, two altered bad rows);
    then the same groups renumbered, one renamed, one gone and one new."""
    tmp_path = tmp_path_factory.mktemp("snapshots")
    scrape = json.loads(SHEET_SCRAPE.read_text(encoding="utf-8"))
    no_name = dict(scrape[22], name=" ")
    off_planet = dict(scrape[23], location_coord={"lat": 95.0, "lng": -1.748167})
    first = scrape[0:21] + [no_name, off_planet]
    later = [dict(g) for g in scrape[1:21] if g["id"] != "5"] + [dict(scrape[21])]
    for i, g in enumerate(later):
        g["id"] = str(i + 1)                      # the sheet's ids are row numbers: they shift
    renamed = next(g for g in later if g["name"].startswith("Frome Road"))
    renamed["name"] = "Frome Road Community Support (Trowbridge)"
    snaps = [Snapshot("2020-03-18", write_json(tmp_path / "a.json", first), "application/json"),
             Snapshot("2020-03-25", write_json(tmp_path / "b.json", later), "application/json")]
    clock = ReplayClock("2020-03-18")
    with serve(snaps, clock) as server:
        a = crawl(server, tmp_path / "db.db", "2020-03-18T00:00:00+00:00")
        clock.date = "2020-03-25"
        b = crawl(server, tmp_path / "db.db", "2020-03-25T00:00:00+00:00")
    return connect(tmp_path / "db.db"), a, b, scrape


def test_header_row_as_a_group_is_skipped(two_snapshots):
    db, a, _, _ = two_snapshots
    assert stats_of(db, a.crawl_id)["mutual_aid/header_row_skipped"] == 1
    assert not list(db["groups"].rows_where("name = ? or location_name = ?", ["Group name", "Location"]))


def test_identity_is_stable_across_snapshots(two_snapshots):
    db, a, b, scrape = two_snapshots
    # 20 rows, rows 10 and 11 list one group (same link and place): 19 groups, one duplicate.
    assert (a.counts["new"], stats_of(db, a.crawl_id)["store/duplicate"]) == (19, 1)
    assert (b.counts["new"], b.counts["changed"], b.counts["unchanged"]) == (1, 1, 17)
    renamed = db["groups"].get("mutual_aid:" + group_ref(None, scrape[3]["link_facebook"], "",
                                                         scrape[3]["location_name"]))
    assert renamed["name"] == "Frome Road Community Support (Trowbridge)" and renamed["first_crawl_id"] == a.crawl_id
    assert db.execute("select count(*) from versions where record_id = ?", [renamed["id"]]).fetchone()[0] == 2
    gone = db["groups"].get("mutual_aid:" + group_ref(None, scrape[5]["link_facebook"], "",
                                                      scrape[5]["location_name"]))
    assert gone["last_crawl_id"] == a.crawl_id


def test_malformed_rows_are_quarantined_with_a_reason(two_snapshots):
    db, a, _, scrape = two_snapshots
    reasons = sorted(r["reason"] for r in db["quarantine"].rows_where("crawl_id = ?", [a.crawl_id]))
    assert reasons == ["coordinates out of range: 95.0, -1.748167", "no name"]
    assert a.counts["quarantined"] == 2 and a.status == "ok"
    raw = json.loads(next(db["quarantine"].rows_where("reason = ?", ["no name"]))["raw"])
    assert raw["link_facebook"] == scrape[22]["link_facebook"]
