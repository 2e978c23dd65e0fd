"""Library closures as the lists date them: observation windows, announced closures, one state per library.

Every expectation comes from the three real snapshots' own words (spiders/replay/data/libraries/), read here with
the csv module, not from what the code made of them.
"""
from __future__ import annotations

import csv
import json
import re
import sqlite3

import pytest

from monitor.reports.alerts import crawl_events
from monitor.reports.digest import event_sections
from monitor.reports.event_lines import event_line
from monitor.web import wards as web_wards
from spiders.library_layouts import from_dcms_basic, from_libraries_hacked
from spiders.replay.catalogue import replay_server, start_urls
from spiders.replay.libraries import DATES, SNAPSHOTS
from spiders.replay.snapshots import ReplayClock
from tests.replay_crawl import crawl

FOUR_UNDATED = {"Roche Micro", "St. Blazey Micro", "St. Keverne Library", "South Shields Central Library"}


def raw_rows(i: int) -> list[dict]:
    with open(SNAPSHOTS[i].path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def row_named(i: int, name: str, name_column: str) -> dict:
    (row,) = [r for r in raw_rows(i) if r[name_column] == name]
    return row


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """The three lists crawled in date order (2016-07-01, 2021-01-01, 2023-12-01); return (db, crawl ids)."""
    db_path = tmp_path_factory.mktemp("windows") / "leftbehind.db"
    clock = ReplayClock(DATES[0])
    ids = []
    with replay_server(clock) as server:
        url = start_urls(server.url)["libraries"]
        for date in DATES:
            clock.date = date
            result, db, _ = crawl("libraries", db_path, server, f"{date}T06:00:00", start_url=url)
            assert result.status == "ok"
            ids.append(result.crawl_id)
    return db, ids


def digest_week(db, date: str) -> dict:
    """Return the digest's event sections for the week to the crawl of `date` (06:00), by key."""
    sections = event_sections(db, {"notable_grant_amount": 10000}, f"{date}T00:00:00", f"{date}T07:00:00",
                              "http://x")
    return {s.key: s for s in sections}


def library_events(db, crawl_id: int, names: set[str], kind: str | None = None) -> list[dict]:
    return [e for e in db.query("select * from events where crawl_id = ? and source = 'libraries' order by id",
                                [crawl_id]) if e["name"] in names and (kind is None or e["kind"] == kind)]


def test_the_list_words_closed_reopened_and_temporary():
    """What a row says, read as it says it."""
    # 2021: "Branch Library was closed in 2012 and re-opened within Community Hub North" (closed 2012, opened 2017)
    west_view = {k.lower(): v for k, v in row_named(1, "West View", "Library name").items()}
    fields = from_libraries_hacked(west_view)
    assert (fields["closed"], fields["reopened"]) == (False, True)
    # 2023: South Shields Central Library, closure column empty, operation_23 "Closed"
    south_shields = row_named(2, "South Shields Central Library", "name")
    assert (south_shields["closed"], south_shields["operation_23"]) == ("", "Closed")
    fields = from_dcms_basic(south_shields)
    assert (fields["closed"], fields["year_closed"], fields["temporary"]) == (True, None, False)
    # 2023: Billinge Library, closed "2024", operation_23 "Temporary Closure": not a closure
    billinge = row_named(2, "Billinge Library", "name")
    assert (billinge["closed"], billinge["operation_23"]) == ("2024", "Temporary Closure")
    fields = from_dcms_basic(billinge)
    assert (fields["closed"], fields["year_closed"], fields["temporary"]) == (False, "2024", True)


def test_closures_the_2021_list_gives_no_date_are_backfill_with_their_window(crawled):
    db, (first, second, third) = crawled
    undated = {r["Library name"] for r in raw_rows(1) if r["Year closed"].strip() == "Closed"}
    assert FOUR_UNDATED <= undated
    events = library_events(db, second, FOUR_UNDATED, "closed")
    assert sorted(e["name"] for e in events) == sorted(FOUR_UNDATED)
    for e in events:   # last listed open by the 2016 list, first listed closed by the 2021 one: years, not news
        assert (e["closed_on"], e["window_from"], e["window_to"], e["backfill"]) == (
            None, DATES[0], DATES[1], 1), e
    line = event_line(db, events[0], "http://x")
    assert ("When", "closed between 2016-07 and 2021-01 (last listed open, first listed closed)") in line.evidence
    # Every year the 2021 list gives is 2019 or earlier (by hand: its "Year closed" column), more than 90 days
    # before the crawl: nothing it closed is this week's news.
    years = {m.group(0) for r in raw_rows(1) for m in [re.search(r"\d{4}", r["Year closed"])] if m}
    assert max(years) == "2019"
    assert [e for e in crawl_events(db, second) if e["kind"] == "closed"] == []
    week = digest_week(db, DATES[1])
    assert week["closures"].total == 0 and week["older"].total == len(library_events(
        db, second, {e["name"] for e in db.query("select name from events where crawl_id = ?", [second])}, "closed"))
    # The 2023 list dates three of them ("2015", "2018", "2017"); counted at those dates from then on.
    dated = {r["name"]: r["closed"] for r in raw_rows(2) if r["name"] in FOUR_UNDATED}
    assert dated == {"Roche Micro": "2015", "St. Blazey Micro": "2018", "St. Keverne Library": "2017",
                     "South Shields Central Library": ""}
    stored = {r["name"]: r["closed_at"] for r in db.query(
        "select name, closed_at from libraries where status = 'closed' and last_crawl_id = ?", [third])
        if r["name"] in FOUR_UNDATED}
    assert {k: v for k, v in stored.items() if dated[k]} == {k: v for k, v in dated.items() if v}
    assert stored["South Shields Central Library"][:10] == DATES[1]   # undated: closed at the 2021 list's date


def test_closures_the_2023_list_dates_2024_are_announced_never_closed(crawled):
    db, (first, second, third) = crawled
    rows = [r for r in raw_rows(2) if r["closed"].strip() == "2024"]
    names = {r["name"] for r in rows}
    assert len(rows) == 6 and names == {"Billinge Library", "Garswood Library", "Parr Library",
                                        "Peter Street Library", "Rainhill Library", "Heritage"}
    assert library_events(db, third, names, "closed") == []
    announced = library_events(db, third, names, "announced")
    assert sorted(e["name"] for e in announced) == sorted(names)
    records = [db["libraries"].get(e["record_id"]) for e in announced]
    assert {r["status"] for r in records} == {"open"}              # never counted closed
    told = {e["name"]: json.loads(e["evidence"])["announced"] for e in announced}
    assert told["Parr Library"] == "to close in 2024"
    assert told["Billinge Library"] == "to close in 2024 (temporary closure)"
    # A warning that is news: alerted, and said as such.
    alerted = {e["name"] for e in crawl_events(db, third) if e["kind"] == "announced"}
    assert names <= alerted
    parr = next(e for e in announced if e["name"] == "Parr Library")
    line = event_line(db, parr, "http://x")
    assert line.left_behind and line.kind_label == "Closure announced"
    assert ("Warning", "announced to close in 2024; not counted as a closure") in line.evidence
    # The ward page and its feed show the warning (monitor/web reads the same events).
    conn = sqlite3.connect(db.execute("pragma database_list").fetchone()[2])
    conn.row_factory = sqlite3.Row
    shown = web_wards.events(conn, "leftbehind", ward_code=parr["ward_code"])
    assert [e["label"] for e in shown if e["kind"] == "announced"] == ["Closure announced (to close in 2024)"]
    # The digest lists them apart, as warnings; none is among the week's closures.
    week = digest_week(db, DATES[2])
    assert names <= {line.name for line in week["announced"].lines}
    assert not names & {line.name for line in week["closures"].lines}


def test_a_reopening_the_2021_list_already_shows_is_not_news_in_2023(crawled):
    db, (first, second, third) = crawled
    names = {"West View", "West View Library"}
    assert row_named(0, "West View", "name")["closed"] == "XL"
    (reopened,) = library_events(db, second, names, "reopened")
    assert (reopened["window_from"], reopened["window_to"], reopened["backfill"]) == (DATES[0], DATES[1], 1)
    assert [e["kind"] for e in library_events(db, third, names) if e["kind"] in ("closed", "reopened")] == []
    assert db["libraries"].get(reopened["record_id"])["status"] == "open"
    # Carnegie Library (Herne Hill): 2016 "XLT" ("planned to reopen 2017") is a temporary closure, and the 2021 row
    # (closed 2016, opened 2018) says it is open: never a closure.
    carnegie = {"Carnegie library (Herne Hill)", "Carnegie Library (Herne Hill)"}
    assert [e["kind"] for e in library_events(db, first, carnegie)] == ["new", "announced"]
    assert [e for e in db.query("select * from events where kind in ('closed', 'reopened')") if e["name"] in carnegie] \
        == []


def test_closed_with_an_empty_date_is_not_counted_open(crawled):
    db, (first, second, third) = crawled
    rows = [r for r in raw_rows(2) if r["operation_23"] == "Closed" and not r["closed"].strip()]
    assert len(rows) == 11
    for r in rows:
        (stored,) = db.query("select status from libraries where name = ? and authority = ? and last_crawl_id = ?",
                             [r["name"], r["reporting"], third])
        assert stored["status"] == "closed", r["name"]
    # One state per library: no library is both closed from an older list and open from the newest.
    both = db.execute("""select count(*) from libraries a join libraries b on a.id < b.id
                         and a.name = b.name and a.authority = b.authority
                         and a.status = 'closed' and b.status = 'open' and b.last_crawl_id = ?
                         and a.last_crawl_id = ?""", [third, second]).fetchone()[0]
    assert both == 0


def test_changed_events_only_for_name_address_postcode_or_ward(crawled):
    db, (first, second, third) = crawled
    # The 2016 list has no UPRN column; the 2021 and 2023 lists do: a field appearing is not a change.
    assert "uprn" not in {k.lower() for k in raw_rows(0)[0]}
    changed = list(db.query("select * from events where kind = 'changed' and source = 'libraries'"))
    assert changed
    for e in changed:
        fields = json.loads(e["evidence"])["fields"]
        assert set(fields) <= {"name", "address", "postcode", "ward_code"}, fields
        assert all(old not in (None, "") and new not in (None, "") for old, new in fields.values()), fields
    # They stay out of the people's timeline: West View's renaming ("West View" -> "West View Library").
    (renamed,) = [e for e in changed if e["name"] == "West View Library"]
    conn = sqlite3.connect(db.execute("pragma database_list").fetchone()[2])
    conn.row_factory = sqlite3.Row
    shown = web_wards.events(conn, "leftbehind", ward_code=renamed["ward_code"], limit=200)
    assert shown and "changed" not in {e["kind"] for e in shown}
    assert "changed" not in {kind for _, kind, _ in web_wards.timeline(conn, renamed["ward_code"])}


def test_disagreements_resolved_are_counted_in_the_crawl_stats(crawled):
    db, (first, second, third) = crawled
    stats = [json.loads(db["crawl_runs"].get(c)["stats"]) for c in (first, second, third)]
    # 2021 rows whose own years say they reopened: opened in a later year than they closed.
    own = [r for r in raw_rows(1) if re.fullmatch(r"\d{4}", r["Year closed"].strip())
           and re.fullmatch(r"\d{4}", r["Year opened"].strip()) and r["Year opened"] > r["Year closed"]]
    assert stats[1]["resolved/reopened_by_own_years"] == len(own) == 5
    # 2016: an authority listing one closed and one open library of the same name lists a library that moved.
    # By hand: 58 pairs of the same authority and name ("library" aside), and three whose open row is the new
    # hub (Whittlesey, Strood, Broughton).
    pairs: dict[tuple, list[dict]] = {}
    for r in raw_rows(0):
        pairs.setdefault((r["authority_id"], re.sub(r"\W", "", r["name"].lower().replace("library", ""))), []).append(r)
    plain = [g for g in pairs.values() if len(g) == 2 and sorted(bool(r["closed"]) for r in g) == [False, True]
             and "XLT" not in {r["closed"] for r in g}]
    assert len(plain) == 58
    assert stats[0]["resolved/replacement_is_a_move"] == 58 + 3
    # The newest list decides: the 2023 list lists open what the 2021 list listed closed.
    assert stats[2]["resolved/reopened_by_newer_list"] == len(library_events(db, third, {
        e["name"] for e in db.query("select name from events where crawl_id = ? and kind = 'reopened'", [third])},
        "reopened")) > 0
