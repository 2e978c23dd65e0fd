"""Postcode lookups on the web (HTTP, against `run.py serve`): one question to postcodes.io per request at most,
answered within 2 s, and an outage said as an outage, never as "no ward found".

postcodes.io is the local replay, switched to fail (HTTP 503) or to hang (no answer for 20 s); a second site points
at a closed port. Each test asks about postcodes no earlier test asked about, since answers are cached.
"""
from __future__ import annotations

import socket
import time

import httpx
import pytest
from bs4 import BeautifulSoup

from tests.web_server import web_server

UNAVAILABLE = "Postcode lookup is unavailable just now; try a ward or place name."
# Postcodes of the replayed postcodes.io data (db/reference/raw/nspl_postcode_sample.json): South Molton, Devon.
SOUTH_MOLTON = ["EX36 4EJ", "EX36 4FL", "EX36 4BQ", "EX36 4AP", "EX36 4AY", "EX36 4AJ", "EX36 4DE", "EX36 4AU"]


@pytest.fixture(scope="module")
def site(tmp_path_factory, template_db):
    with web_server(tmp_path_factory.mktemp("lookups"), template_db) as served:
        yield served


@pytest.fixture
def postcodes(site):
    replay = site["postcodes"]
    replay.clear_faults()
    yield replay
    replay.clear_faults()


@pytest.fixture
def client(site):
    with httpx.Client(base_url=site["url"], timeout=30) as c:
        yield c


def words(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def timed_get(client, path: str, **params):
    start = time.monotonic()
    page = client.get(path, params=params)
    return page, time.monotonic() - start


def asked(replay) -> int:
    return len(replay.requests("/postcodes"))


def test_a_postcode_search_while_the_service_hangs_says_it_is_unavailable_within_3_s(client, postcodes):
    postcodes.set_fault("/postcodes", delay=20)
    page, took = timed_get(client, "/wards", q=SOUTH_MOLTON[0])
    text = words(page.text)
    assert took < 3.0, took
    assert page.status_code == 200 and UNAVAILABLE in text
    assert "No ward" not in text and "no ward" not in text


def test_a_postcode_search_while_the_service_fails_asks_once(client, postcodes):
    postcodes.set_fault("/postcodes", status=503)
    before = asked(postcodes)
    page, took = timed_get(client, "/wards", q=SOUTH_MOLTON[1])
    assert took < 3.0 and UNAVAILABLE in words(page.text) and "No ward" not in words(page.text)
    assert asked(postcodes) - before == 1                      # no retries: the person is waiting
    postcodes.clear_faults()
    page = client.get("/wards", params={"q": SOUTH_MOLTON[1]})  # back: the ward, South Molton
    assert "/wards/E05003557" in {a["href"] for a in BeautifulSoup(page.text, "html.parser").select("main li a")}


def test_a_place_search_while_the_service_fails_is_not_no_ward(client, postcodes):
    postcodes.set_fault("/places", status=503)
    page, took = timed_get(client, "/wards", q="Little Snoring Parva")
    text = words(page.text)
    assert took < 3.0 and "Place lookup is unavailable just now" in text and "No ward" not in text


def subscribe(client, wards: list[str]):
    client.get("/subscribe")
    form = {"csrftoken": client.cookies["ds_csrftoken"], "email": "many@example.org", "ward": wards}
    start = time.monotonic()
    page = client.post("/subscribe", data=form)
    return page, time.monotonic() - start


def test_a_subscribe_form_with_many_postcodes_asks_once_and_says_the_outage(client, postcodes):
    postcodes.set_fault("/postcodes", status=503)
    before = asked(postcodes)
    page, took = subscribe(client, SOUTH_MOLTON[2:6])
    text = words(page.text)
    assert asked(postcodes) - before == 1 and took < 3.0
    assert page.status_code == 400 and text.count(UNAVAILABLE) == 4 and "No ward found" not in text


def test_a_subscribe_form_with_many_postcodes_asks_once_when_all_is_well(client, postcodes):
    before = asked(postcodes)
    page, _ = subscribe(client, SOUTH_MOLTON[6:] + ["PO14 1NT"])
    assert asked(postcodes) - before == 1 and page.status_code == 200 and "Check your email" in words(page.text)


def test_a_postcode_search_with_postcodes_io_on_a_closed_port(tmp_path, template_db):
    with socket.socket() as s:       # a port that was free a moment ago and that nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with web_server(tmp_path, template_db, postcodes_url=f"http://127.0.0.1:{closed}") as served, \
            httpx.Client(base_url=served["url"], timeout=30) as client:
        page, took = timed_get(client, "/wards", q=SOUTH_MOLTON[0])
        text = words(page.text)
        assert took < 3.0 and UNAVAILABLE in text and "No ward" not in text
