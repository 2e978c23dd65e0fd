"""The postcodes.io emulator of the replay server: real shapes, real errors, recorded data."""
from __future__ import annotations

import json
import time

import httpx
import pytest

from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer


@pytest.fixture(scope="module")
def api():
    with ReplayServer(routes=postcodes_io.routes()) as srv:
        with httpx.Client(base_url=srv.url) as client:
            yield client


def test_bulk_answers_in_order_with_nulls_and_drops_non_strings(api):
    resp = api.post("/postcodes", json={"postcodes": ["ex364at", 42, "EX36 9ZZ", "PR3 0SG", None]})
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == 200
    assert [(i["query"], (i["result"] or {}).get("postcode")) for i in body["result"]] == [
        ("ex364at", "EX36 4AT"), ("EX36 9ZZ", None), ("PR3 0SG", "PR3 0SG")]


@pytest.mark.parametrize("payload, message", [
    ({"postcodes": ["EX36 4AT"] * 101}, postcodes_io.TOO_MANY),
    ({"postcodes": "EX36 4AT"}, postcodes_io.NOT_ARRAY),
    ({"codes": ["EX36 4AT"]}, postcodes_io.NO_POSTCODES),
])
def test_bulk_errors_are_the_real_ones(api, payload, message):
    resp = api.post("/postcodes", json=payload)
    assert resp.status_code == 400
    assert resp.json() == {"status": 400, "error": message}


def test_bulk_of_exactly_100_is_accepted(api):
    resp = api.post("/postcodes", json={"postcodes": ["EX36 4AT"] * 100})
    assert resp.status_code == 200 and len(resp.json()["result"]) == 100


@pytest.mark.parametrize("path, status, expected", [
    ("/postcodes/EX36%204AT", 200, {"status": 200}),
    ("/postcodes/le33pz", 200, {"status": 200}),
    ("/postcodes/NOTAPOSTCODE", 404, {"status": 404, "error": "Invalid postcode"}),
    ("/postcodes/EX36%209ZZ", 404, {"status": 404, "error": "Postcode not found"}),
    ("/postcodes/NG7%203LF", 404, {"status": 404, "error": "Postcode not found", "terminated": {
        "postcode": "NG7 3LF", "year_terminated": 2009, "month_terminated": 1, "longitude": -1.222127,
        "latitude": 52.959917}}),
])
def test_single_lookup(api, path, status, expected):
    resp = api.get(path)
    assert resp.status_code == status
    body = resp.json()
    assert {k: body[k] for k in expected} == expected
    if status == 200:
        assert body["result"]["codes"]["admin_ward"].startswith("E05")


def test_nspl_rows_convert_to_the_postcodes_io_shape(api):
    result = api.get("/postcodes/LE3%203PZ").json()["result"]
    assert result["postcode"] == "LE3 3PZ" and result["outcode"] == "LE3" and result["incode"] == "3PZ"
    assert (result["latitude"], result["longitude"]) == (52.631873, -1.213706)
    assert result["country"] == "England" and result["codes"]["lsoa11"] == "E01025638"
    assert result["codes"]["admin_district"] == "E07000129" and result["admin_district"] == "Blaby"


@pytest.mark.parametrize("query, names", [
    ("q=London", ["London", "London Colney", "Londonthorpe"]),
    ("query=london&limit=2", ["London", "London Colney"]),
    ("q=LONDONTH", ["Londonthorpe"]),
    ("q=Atlantis", []),
])
def test_places_prefix_search(api, query, names):
    body = api.get(f"/places?{query}").json()
    assert body["status"] == 200
    assert [p.get("name_1") or p.get("place_name") for p in body["result"]] == names


def test_converted_files_are_reproducible():
    live, ended = postcodes_io.build_nspl_results()
    shipped = json.loads((postcodes_io.DATA_DIR / postcodes_io.NSPL_POSTCODES).read_text(encoding="utf-8"))
    assert shipped["result"] == live and len(live) == 14
    shipped_ended = json.loads((postcodes_io.DATA_DIR / postcodes_io.NSPL_TERMINATED).read_text(encoding="utf-8"))
    assert shipped_ended["result"] == ended and [t["postcode"] for t in ended] == ["NG7 3LF"]


def test_latency_delays_answers_that_stay_real():
    with ReplayServer(routes=postcodes_io.routes(latency=0.3)) as srv, httpx.Client(base_url=srv.url) as client:
        start = time.monotonic()
        resp = client.post("/postcodes", json={"postcodes": ["LE3 3PZ"]})
        waited = time.monotonic() - start
    assert waited >= 0.3        # a lower bound: sleeping guarantees it, however loaded the machine
    assert resp.json()["result"][0]["result"]["codes"]["lsoa11"] == "E01025638"
