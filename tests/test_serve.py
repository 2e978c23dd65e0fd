"""Tests for db/serve.py: metadata, guards, and a real Datasette over a filled public database."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from db import serve as serve_mod
from db.store import init_private, init_public
from monitor.web.site_metadata import query_fragments
from spiders import registry

ROOT = Path(__file__).resolve().parent.parent
AREA_GROUPS = ("left_behind", "other_deprived", "england")
LEFT_BEHIND = "E05000028"      # Becontree, Barking and Dagenham: one of the 225
OTHER_DEPRIVED = "E05001250"   # Netherton, Woodside and St Andrews, Dudley
ORDINARY = "E05000026"         # Abbey, Barking and Dagenham


def _record(source: str, ref: str, name: str, ward: str, lat: float, lon: float, **extra) -> dict:
    return {"id": f"{source}:{ref}", "source": source, "ref": ref, "scope": source, "name": name,
            "latitude": lat, "longitude": lon, "ward_code": ward, "status": "open", "last_crawl_id": 2,
            "first_seen_at": "2024-01-01T06:00:00+00:00", "licence": "test", **extra}


def fill_sample(db, today: datetime) -> None:
    """Insert a handful of records, events, indicators and crawls, dated relative to today."""
    recent = (today - timedelta(days=10)).isoformat(timespec="seconds")
    old = (today - timedelta(days=200)).isoformat(timespec="seconds")
    db["groups"].insert_all([
        _record("mutual_aid", "g1", "Becontree Mutual Aid", LEFT_BEHIND, 51.5556, 0.1318, location_name="Becontree"),
        _record("mutual_aid", "g2", "Abbey Helpers", ORDINARY, 51.5390, 0.0790),
    ], pk="id", alter=True)
    db["pubs"].insert_all([
        _record("fhrs_pubs", "p1", "The Royal Oak", LEFT_BEHIND, 51.5560, 0.1300, address="1 High Road",
                venue_kind="pub", scope="Barking and Dagenham"),
        _record("fhrs_pubs", "p2", "The Old Crown", LEFT_BEHIND, 51.5570, 0.1350, address="2 High Road",
                status="closed", closed_at=recent[:10], closed_by="absence", venue_kind="pub",
                scope="Barking and Dagenham"),
        _record("fhrs_pubs", "p3", "The Netherton Arms", OTHER_DEPRIVED, 52.4900, -2.0800, venue_kind="pub",
                scope="Dudley"),
        _record("fhrs_pubs", "p4", "Becontree Social Club", LEFT_BEHIND, 51.5565, 0.1310, venue_kind="members_club",
                scope="Barking and Dagenham"),
    ], pk="id", alter=True)
    db["libraries"].insert_all([
        _record("libraries", "l1", "Becontree Library", LEFT_BEHIND, 51.5540, 0.1290, status="closed",
                closed_at="2015", closed_by="source"),
        _record("libraries", "l2", "Barking Library", ORDINARY, 51.5380, 0.0810),
    ], pk="id", alter=True)
    db["grants"].insert_all([
        _record("threesixty_giving", "t1", "Food bank", LEFT_BEHIND, None, None, amount=5000.0,
                award_date="2020-05-01", funder_name="A B Charitable Trust", recipient_name="Becontree Food Bank",
                covid=1, currency="GBP"),
        _record("threesixty_giving", "t2", "Youth club", LEFT_BEHIND, None, None, amount=2500.0,
                award_date="2021-02-01", funder_name="Power to Change", recipient_name="Becontree Youth", covid=0,
                currency="GBP"),
        _record("threesixty_giving", "t3", "Elsewhere", ORDINARY, None, None, amount=9999.0,
                award_date="2021-02-01", funder_name="Lloyds Bank Foundation", covid=0),
    ], pk="id", alter=True)
    db["crawl_runs"].insert_all([
        {"id": 1, "source": "fhrs_pubs", "scope": "fhrs_pubs", "started_at": old, "status": "ok", "items": 3},
        {"id": 2, "source": "fhrs_pubs", "scope": "fhrs_pubs", "started_at": recent, "status": "ok", "items": 2},
        {"id": 3, "source": "libraries", "scope": "libraries", "started_at": recent, "status": "failed",
         "reason": "HTTP 503"},
    ], pk="id")
    db["scope_runs"].insert_all([
        {"crawl_id": 1, "source": "fhrs_pubs", "scope": "Barking and Dagenham", "items": 3, "healthy": 1,
         "at": old},
        {"crawl_id": 2, "source": "fhrs_pubs", "scope": "Barking and Dagenham", "items": 2, "healthy": 1,
         "at": recent},
        {"crawl_id": 2, "source": "fhrs_pubs", "scope": "Dudley", "items": 0, "healthy": 0,
         "reason": "0 items, median 40", "at": recent},
    ])
    db["events"].insert_all([
        {"kind": "closed", "source": "fhrs_pubs", "record_id": "fhrs_pubs:p2", "ref": "p2", "name": "The Old Crown",
         "ward_code": LEFT_BEHIND, "at": recent, "crawl_id": 2, "evidence": '{"missing_crawls": 2}', "baseline": 0},
        {"kind": "closed", "source": "libraries", "record_id": "libraries:l1", "ref": "l1",
         "name": "Becontree Library", "ward_code": LEFT_BEHIND, "at": recent, "crawl_id": 1,
         "evidence": '{"closed_year": "2015"}', "baseline": 1},
        {"kind": "closed", "source": "fhrs_pubs", "record_id": "fhrs_pubs:p9", "ref": "p9", "name": "Long Gone Inn",
         "ward_code": LEFT_BEHIND, "at": old, "crawl_id": 1, "evidence": "{}", "baseline": 0},
        {"kind": "new", "source": "mutual_aid", "record_id": "mutual_aid:g1", "ref": "g1",
         "name": "Becontree Mutual Aid", "ward_code": LEFT_BEHIND, "at": recent, "crawl_id": 2, "baseline": 0},
    ])
    rows = []
    # The old computation predates intervals (no ci_low, no verdict); the recent one has them.
    for computed_at, lb, lb_ci in ((old, 3.0, None), (recent, 4.2, (3.4, 5.1))):
        for group, value, population, ci in (("left_behind", lb, 2386368, lb_ci),
                                             ("other_deprived", 7.7, 5000000, (7.0, 8.4)),
                                             ("england", 10.5, 56286961, (10.4, 10.6))):
            ci = ci if lb_ci else (None, None)
            rows.append({"computed_at": computed_at, "indicator": "pubs_per_100k", "area_group": group,
                         "numerator": value * population / 1e5, "population": population, "value": value,
                         "ci_low": ci[0], "ci_high": ci[1], "reliable": None if not lb_ci else 1, "note": "",
                         "coverage": json.dumps({"records": 1003, "resolved_share": 0.8213 if lb_ci else 0.999})})
    # Grants: too few in left-behind wards to say anything. Library closures: the left-behind interval overlaps
    # England's but lies well below other deprived wards' one.
    few, overlap = "too few to say: 2 grants (fewer than 20)", "too few to say: its interval overlaps England's"
    for indicator, values, window_from, window_to in (
            ("grants_gbp_per_100k", {"left_behind": (900.0, 0.0, 2400.0, 0, few),
                                     "other_deprived": (950.0, 800.0, 1100.0, 1, ""),
                                     "england": (1000.0, 990.0, 1010.0, 1, "")}, "2021-01-01", "2021-12-31"),
            ("library_closures_per_100k", {"left_behind": (2.5, 2.0, 3.0, 0, overlap),
                                           "other_deprived": (6.0, 5.0, 7.0, 1, ""),
                                           "england": (2.6, 2.5, 2.7, 1, "")},
             "2010-01-01", today.date().isoformat())):
        rows += [{"computed_at": recent, "indicator": indicator, "area_group": group, "value": value,
                  "ci_low": low, "ci_high": high, "reliable": reliable, "note": note,
                  "window_from": window_from, "window_to": window_to}
                 for group, (value, low, high, reliable, note) in values.items()]
    db["indicators"].insert_all(rows, alter=True)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Serve a filled public database through `run.py serve`, beside a private database with a subscriber."""
    folder = tmp_path_factory.mktemp("serve")
    db_path, private_path = folder / "leftbehind.db", folder / "private.db"
    fill_sample(init_public(db_path), datetime.now(UTC))
    private = init_private(private_path)
    private["subscriptions"].insert({"email": "secret@example.org", "token": "tok", "active": 1}, alter=True)
    port = serve_mod.free_port()
    log = open(folder / "serve.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "run.py", "--db", str(db_path), "--private-db", str(private_path),
         "serve", "--port", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        serve_mod.wait_until_ready(process, url)
        yield {"url": url, "db": db_path.stem, "db_path": db_path, "private_path": private_path}
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def fetch(url: str, data: bytes | None = None) -> tuple[int, str]:
    """Return the status and body of a GET (or a POST when data is given), errors included."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def rows_of(served, path: str, **params) -> list[dict]:
    query = urllib.parse.urlencode({**params, "_shape": "objects"})
    status, body = fetch(f"{served['url']}/{served['db']}/{path}.json?{query}")
    assert status == 200, body
    return json.loads(body)["rows"]


# ---- metadata and guards, no server ----

def test_metadata_is_keyed_by_the_file_stem_and_queries_have_their_sql():
    metadata = serve_mod.build_metadata("snapshot-2024")
    assert list(metadata["databases"]) == ["snapshot-2024"]
    queries = metadata["databases"]["snapshot-2024"]["queries"]
    assert tuple(queries) == serve_mod.CANNED_QUERIES
    assert ":ward" in queries["ward_profile"]["sql"]
    assert all(q["source"] and q["license"] and q["title"] and q["description"] for q in queries.values())
    assert "/snapshot-2024/ward_profile" in metadata["description_html"]
    assert "{db}" not in json.dumps(metadata)


def test_every_public_table_has_provenance_or_is_hidden(fresh_db):
    tables = serve_mod.build_metadata("x", provenance=registry.table_provenance())["databases"]["x"]["tables"]
    for name in fresh_db.table_names() + fresh_db.view_names():
        meta = tables.get(name)
        assert meta is not None, f"no metadata for {name}"
        if not meta.get("hidden"):
            assert meta["description"] and meta["source"] and meta["license"], name
    for name in registry.record_table_names():
        assert tables[name].get("source_url") and tables[name].get("license_url"), name
    assert tables["groups"]["license"].startswith("CC BY-NC-SA 4.0")
    assert "OCSI / Local Trust" in tables["wards"]["source"] + tables["wards"]["license"]


def test_settings_are_datasette_settings():
    from datasette.app import SETTINGS

    known = {s.name for s in SETTINGS}
    assert set(serve_mod.load_settings()) <= known


def test_argv_serves_only_the_public_file(tmp_path):
    argv = serve_mod.datasette_argv(tmp_path / "leftbehind.db", tmp_path / "m.json", "127.0.0.1", 9000)
    assert argv[:4] == [sys.executable, "-m", "datasette", "serve"]
    assert [a for a in argv if a.endswith(".db")] == [str(tmp_path / "leftbehind.db")]
    assert "--crossdb" not in argv and "-i" not in argv
    assert "-i" in serve_mod.datasette_argv(tmp_path / "a.db", tmp_path / "m.json", "127.0.0.1", 1, True)


def test_refuses_private_missing_or_mixed_databases(tmp_path, fresh_db, db_path, private_db, private_db_path):
    with pytest.raises(serve_mod.InputError, match="no database"):
        serve_mod.check_servable(tmp_path / "absent.db")
    with pytest.raises(serve_mod.InputError, match="private database"):
        serve_mod.check_servable(private_db_path, private_db_path)
    with pytest.raises(serve_mod.InputError, match="private tables"):
        serve_mod.check_servable(init_private(tmp_path / "innocent.db").conn.close() or tmp_path / "innocent.db")
    (tmp_path / "notes.db").write_text("not a database " * 100)
    with pytest.raises(serve_mod.InputError, match="cannot be read"):
        serve_mod.check_servable(tmp_path / "notes.db")
    serve_mod.check_servable(db_path, tmp_path / "private.db")


def test_every_canned_query_runs_on_an_empty_store(fresh_db):
    queries = serve_mod.build_metadata("x", fragments=query_fragments())["databases"]["x"]["queries"]
    assert "/*ward_numerator*/" not in queries["ward_profile"]["sql"]
    for name, query in queries.items():
        params = {p: "" for p in ("ward", "indicator", "since", "as_of") if f":{p}" in query["sql"]}
        assert fresh_db.execute(query["sql"], params).fetchall() == [], name
    assert "places" in fresh_db.view_names()   # the browse view over the sources' places


# ---- a real server ----

def test_home_and_table_pages_show_provenance(served):
    status, home = fetch(served["url"] + "/-/data")      # Datasette's index; the site root is "Find a ward"
    assert status == 200 and "Left-behind neighbourhoods monitor" in home
    assert f'href="/{served["db"]}/ward_profile"' in home
    status, groups = fetch(f"{served['url']}/{served['db']}/groups")
    assert status == 200
    assert "CC BY-NC-SA 4.0" in groups and "mutualaid.wiki" in groups and "Becontree Mutual Aid" in groups


def test_recent_closures_lists_only_recent_non_baseline_closures_in_left_behind_wards(served):
    rows = rows_of(served, "recent_closures")
    assert [r["name"] for r in rows] == ["The Old Crown"]
    assert rows[0]["ward_name"] == "Becontree" and rows[0]["closed_by"] == "absence"
    assert rows[0]["venue_kind"] == "pub"
    assert rows[0]["reopened_at"] is None
    as_of = (datetime.now(UTC) - timedelta(days=150)).date().isoformat()
    assert [r["name"] for r in rows_of(served, "recent_closures", as_of=as_of)] == ["Long Gone Inn"]


def test_ward_profile_shows_records_events_and_figures(served):
    rows = rows_of(served, "ward_profile", ward=LEFT_BEHIND)
    sections = [r["section"] for r in rows]
    assert sections[0] == "ward" and rows[0]["item"] == "Becontree"
    assert "left behind" in rows[0]["detail"]
    assert {"group", "pub", "members_club", "library", "grant", "event"} <= set(sections)
    figures = {r["item"]: r for r in rows if r["section"] == "figure"}
    population = 15261
    assert set(figures) == {"pubs_per_100k", "grants_gbp_per_100k", "library_closures_per_100k"}
    pubs = figures["pubs_per_100k"]
    # One open pub: the closed one and the social club are not counted.
    assert pubs["ward_value"] == round(1 * 100000 / population, 2)
    assert (pubs["left_behind"], pubs["other_deprived"], pubs["england"]) == (4.2, 7.7, 10.5)
    assert figures["grants_gbp_per_100k"]["ward_value"] == round(2500 * 100000 / population, 2)  # 2021 window only
    assert figures["grants_gbp_per_100k"]["date"] == "2021-01-01 to 2021-12-31"
    assert figures["library_closures_per_100k"]["ward_value"] == round(1 * 100000 / population, 2)  # closed 2015
    assert rows_of(served, "ward_profile", ward="E05999999") == []


def test_the_map_and_the_pubs_table_can_be_browsed_by_venue_kind(served):
    assert [r["name"] for r in rows_of(served, "places", venue_kind="members_club")] == ["Becontree Social Club"]
    assert {r["name"] for r in rows_of(served, "places", kind="pub")} >= {"The Royal Oak", "Becontree Social Club"}
    assert [r["name"] for r in rows_of(served, "pubs", venue_kind="members_club")] == ["Becontree Social Club"]


def test_indicator_history_and_grants_by_funder(served):
    history = rows_of(served, "indicator_history", indicator="pubs_per_100k")
    assert [r["left_behind"] for r in history] == [4.2, 3.0]
    assert history[0]["left_behind_pct_of_england"] == 40.0                 # 4.2 / 10.5
    assert history[0]["left_behind_pct_of_other_deprived"] == 54.5          # 4.2 / 7.7
    assert (history[0]["left_behind_ci_low"], history[0]["left_behind_ci_high"]) == (3.4, 5.1)
    assert (history[0]["england_ci_low"], history[0]["england_ci_high"]) == (10.4, 10.6)
    assert history[0]["left_behind_reliable"] == 1 and history[0]["note"] == ""
    assert [r["placed_pct"] for r in history] == [82.1, 99.9]             # share of records placed in a ward
    # Computed before intervals existed: no verdict, the ratios as they were.
    assert (history[1]["left_behind_pct_of_england"], history[1]["left_behind_ci_low"]) == (28.6, None)
    funders = rows_of(served, "grants_by_funder")
    assert [(f["funder"], f["amount_gbp"]) for f in funders] == [("A B Charitable Trust", 5000.0),
                                                                 ("Power to Change", 2500.0)]
    assert [f["funder"] for f in rows_of(served, "grants_by_funder", since="2021-01-01")] == ["Power to Change"]


def test_indicator_history_says_too_few_to_say_instead_of_a_ratio(served):
    grants = rows_of(served, "indicator_history", indicator="grants_gbp_per_100k")[0]
    assert grants["left_behind"] == 900.0 and grants["left_behind_reliable"] == 0
    # Too few grants says nothing against either comparator (900 / 1000 would have read as 90%).
    assert grants["left_behind_pct_of_england"] == "too few to say"
    assert grants["left_behind_pct_of_other_deprived"] == "too few to say"
    assert grants["note"] == "too few to say: 2 grants (fewer than 20)"
    assert (grants["left_behind_ci_low"], grants["left_behind_ci_high"]) == (0.0, 2400.0)
    closures = rows_of(served, "indicator_history", indicator="library_closures_per_100k")[0]
    assert closures["left_behind_pct_of_england"] == "too few to say"     # 2.0-3.0 overlaps 2.5-2.7
    assert closures["left_behind_pct_of_other_deprived"] == 41.7         # 2.0-3.0 is clear of 5.0-7.0: 2.5 / 6
    assert closures["note"] == "too few to say: its interval overlaps England's"


def test_ward_profile_figures_carry_the_interval_and_the_verdict(served):
    figures = {r["item"]: r for r in rows_of(served, "ward_profile", ward=LEFT_BEHIND) if r["section"] == "figure"}
    assert (figures["pubs_per_100k"]["left_behind_95"], figures["pubs_per_100k"]["england_95"]) == (
        "3.4 to 5.1", "10.4 to 10.6")
    assert figures["pubs_per_100k"]["note"] is None
    assert figures["grants_gbp_per_100k"]["left_behind_95"] == "0.0 to 2400.0"
    assert figures["grants_gbp_per_100k"]["note"] == "too few to say: 2 grants (fewer than 20)"


def test_indicator_columns_are_described(served):
    status, page = fetch(f"{served['url']}/{served['db']}/indicators")
    assert status == 200
    assert "Lower end of the 95% interval" in page and "too few to say" in page


def test_source_health_shows_failing_scopes_first(served):
    rows = rows_of(served, "source_health")
    assert [(r["source"], r["scope"], r["last_status"]) for r in rows] == [
        ("fhrs_pubs", "Dudley", "failing"), ("libraries", "(whole source)", "failing"),
        ("fhrs_pubs", "Barking and Dagenham", "healthy")]
    assert rows[0]["failures_since_healthy"] == 1 and rows[0]["last_healthy_at"] is None
    assert rows[1]["last_crawl_of_source"] == "failed: HTTP 503"


@pytest.mark.parametrize("path", ["/private", "/private.db", "/private/subscriptions", "/_internal",
                                  "/-/databases.json?x=private"])
def test_private_database_has_no_url(served, path):
    status, body = fetch(served["url"] + path)
    assert "secret@example.org" not in body
    if path.startswith("/-/databases"):
        assert status == 200 and [d["name"] for d in json.loads(body)] == [served["db"]]
    else:
        assert status in (403, 404), (path, status)


@pytest.mark.parametrize("sql", [
    "attach database '{private}' as p",
    "select * from p.subscriptions",
    "select * from subscriptions",
    "insert into wards (code) values ('X')",
    "delete from events",
    "with x as (select 1) insert into wards (code) select 'X'",  # passes Datasette's check; SQLite refuses
    "pragma writable_schema = 1",
    "select load_extension('x')",
])
def test_arbitrary_sql_cannot_reach_the_private_database_or_write(served, sql):
    sql = sql.format(private=served["private_path"])
    status, body = fetch(f"{served['url']}/{served['db']}.json?" + urllib.parse.urlencode({"sql": sql}))
    assert status >= 400, (sql, status, body)
    assert "secret@example.org" not in body


def test_only_the_public_file_is_attached(served):
    sql = "select name, file from pragma_database_list"
    status, body = fetch(f"{served['url']}/{served['db']}.json?" + urllib.parse.urlencode({"sql": sql}))
    assert status == 200
    # One database, and its file path is not shown (db/datasette/sql_functions.py reads it as NULL).
    assert json.loads(body)["rows"] == [["main", None]]


def test_writes_over_http_are_refused(served):
    before = sqlite_utils.Database(served["db_path"])["events"].count
    for path in (f"/{served['db']}/events", f"/{served['db']}/recent_closures", f"/{served['db']}/wards/-/insert"):
        status, body = fetch(served["url"] + path, data=b'{"row": {"kind": "closed"}}')
        assert (status, body) == (405, "This Datasette is read-only: only GET and HEAD requests are answered.\n")
    assert sqlite_utils.Database(served["db_path"])["events"].count == before


def test_links_from_alerts_and_the_digest_land_on_the_right_rows(served):
    from monitor.reports.event_lines import datasette_base, event_line

    db = sqlite_utils.Database(served["db_path"])
    base = datasette_base(db, {"datasette_url": served["url"] + "/"})
    event = next(db["events"].rows_where("record_id = ?", ["fhrs_pubs:p2"]))
    line = event_line(db, event, base)
    status, body = fetch(line.record_link.replace("?", ".json?", 1) + "&_shape=objects")
    assert status == 200, line.record_link
    assert [r["name"] for r in json.loads(body)["rows"]] == ["The Old Crown"]
    assert line.ward_link == f"{base}/ward_profile?ward={LEFT_BEHIND}"   # the ward's link is its profile
    status, body = fetch(line.ward_link.replace("?", ".json?", 1) + "&_shape=objects")
    assert status == 200 and json.loads(body)["rows"][0]["item"] == "Becontree"


@pytest.mark.parametrize("sql", [
    "select randomblob(1000000000)",
    "select zeroblob(2000000000)",
    "select hex(zeroblob(20000000))",   # 40 MB of text: over the 32 MB cap
    "with recursive r(n) as (select 1 union all select n + 1 from r) select group_concat(randomblob(1000)) from r",
])
def test_memory_bombs_are_refused_quickly_and_the_server_stays_small(served, sql):
    import time

    import psutil
    started = time.monotonic()
    status, body = fetch(f"{served['url']}/{served['db']}.json?" + urllib.parse.urlencode({"sql": sql}))
    elapsed = time.monotonic() - started
    assert status >= 400 and ("too big" in body or "interrupted" in body or "too long" in body), body[:300]
    assert elapsed < 30                                   # refused by a limit, not by the machine running dry
    datasette = [p for p in psutil.process_iter(["cmdline"])
                 if "datasette" in " ".join(p.info["cmdline"] or []) and str(served["db_path"]) in
                 " ".join(p.info["cmdline"] or [])]
    assert datasette and datasette[0].memory_info().rss < 600 * 1024 * 1024
    assert fetch(f"{served['url']}/{served['db']}.json")[0] == 200   # and it still answers

