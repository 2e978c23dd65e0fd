"""postcodes.io client: normalising, bulk batches, retries, failures and the cache, against the replay emulator."""
from __future__ import annotations

import json
import math

import pytest

from core.config import load
from core.errors import PostcodesError
from db.schema import public
from db.store import connect
from geo.postcodes import PostcodesClient, normalise_place, normalise_postcode
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer, Response

NOW = "2024-05-01T09:00:00+00:00"


@pytest.mark.parametrize("raw, expected", [
    ("EX36 4AT", "EX36 4AT"),
    ("ex364at", "EX36 4AT"),
    ("  ex36   4at ", "EX36 4AT"),
    ("M1 1AE", "M1 1AE"),
    ("m11ae", "M1 1AE"),
    ("SW1A 0AA", "SW1A 0AA"),
    ("sw1a0aa", "SW1A 0AA"),
    ("W1A 1HQ", "W1A 1HQ"),
    ("B33 8TH", "B33 8TH"),
    ("CR2 6XH", "CR2 6XH"),
    ("DN55 1PT", "DN55 1PT"),
    ("GIR 0AA", "GIR 0AA"),
    ("SW1A OAA", None),       # letter O where a zero belongs: not guessed
    ("5W1A 0AA", None),
    ("EX36 4A", None),
    ("EX36", None),
    ("EX36 4ATX", None),
    ("QX36 4AT", None),       # Q never starts a postcode
    ("EX36 4CI", None),       # C and I never end one
    ("", None),
    ("   ", None),
    (None, None),
    (12345, None),
])
def test_normalise_postcode(raw, expected):
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("  Kentish   Town ", "kentish town"), ("LONDON", "london"), ("", None), ("  ", None), (None, None),
])
def test_normalise_place(raw, expected):
    assert normalise_place(raw) == expected


@pytest.fixture
def fresh_db(db_path):
    """A migrated public database without the reference tables: the cache needs none."""
    db = connect(db_path)
    public.apply(db)
    return db


@pytest.fixture
def server():
    seen_headers = []
    routes = postcodes_io.routes()

    def remember(handler):
        def wrapped(req):
            seen_headers.append(req.headers)
            return handler(req)
        return wrapped

    with ReplayServer(routes=[(m, p, remember(h)) for m, p, h in routes]) as srv:
        srv.seen_headers = seen_headers
        yield srv


@pytest.fixture
def client(server, fresh_db):
    settings = load(environ={"LBM_POSTCODES_URL": server.url})
    settings.update(http_backoff=0.001, http_retries=3)
    c = PostcodesClient(fresh_db, settings)
    yield c
    c.close()


def cache(db) -> dict:
    return {r["postcode"]: json.loads(r["result"]) for r in db["postcode_cache"].rows}


def test_mixed_known_and_unknown_postcodes(client, server, fresh_db):
    answers = client.postcodes(["EX36 4AT", "PR3 0SG", "EX36 9ZZ", "NG7 3LF"], now=NOW)
    assert answers["EX36 4AT"]["codes"]["lsoa11"] == "E01020135"
    assert answers["PR3 0SG"]["codes"]["admin_ward"] == "E05009646"
    assert answers["EX36 9ZZ"] is None
    assert answers["NG7 3LF"] is None          # terminated: postcodes.io no longer looks it up
    assert len(server.requests("/postcodes")) == 1
    stored = cache(fresh_db)
    assert stored["EX36 9ZZ"] is None and stored["EX36 4AT"]["postcode"] == "EX36 4AT"
    assert {r["fetched_at"] for r in fresh_db["postcode_cache"].rows} == {NOW}
    assert "leftbehind-monitor" in server.seen_headers[0]["User-Agent"]


@pytest.mark.parametrize("n", [100, 101, 250])
def test_bulk_lookups_go_in_hundreds(client, server, fresh_db, n):
    wanted = [f"M{d} {k}AB" for d in range(1, 100) for k in range(10)][:n - 1] + ["EX36 4AT"]
    answers = client.postcodes(wanted, now=NOW)
    posts = [r for r in server.requests("/postcodes") if r[0] == "POST"]
    assert len(posts) == math.ceil(n / 100)
    assert all(status == 200 for _, _, status in posts)
    assert len(answers) == n and answers["EX36 4AT"]["latitude"] == 51.01467
    assert sum(v is None for v in answers.values()) == n - 1
    assert fresh_db["postcode_cache"].count == n


def test_429_then_success_retries(client, server, fresh_db):
    server.set_fault("/postcodes", status=429, times=1)
    answers = client.postcodes(["EX36 4AT"], now=NOW)
    assert answers["EX36 4AT"]["postcode"] == "EX36 4AT"
    assert [s for _, _, s in server.requests("/postcodes")] == [429, 200]
    assert client.counts["http_retries"] == 1


def test_retries_back_off_doubling_from_http_backoff(server, fresh_db):
    settings = load(environ={"LBM_POSTCODES_URL": server.url})
    settings.update(http_backoff=0.25, http_retries=3, postcodes_rate_per_second=0)   # no pacing sleeps
    waits: list[float] = []
    server.set_fault("/postcodes", status=503, times=3)
    client = PostcodesClient(fresh_db, settings, sleep=waits.append)
    assert client.postcodes(["EX36 4AT"], now=NOW)["EX36 4AT"]["postcode"] == "EX36 4AT"
    assert waits == [0.25, 0.5, 1.0]                  # 0.25 s, then doubled before each further attempt
    assert [s for _, _, s in server.requests("/postcodes")] == [503, 503, 503, 200]


def test_500_storm_raises_and_caches_nothing(client, server, fresh_db):
    server.set_fault("/postcodes", status=500)
    with pytest.raises(PostcodesError, match=r"failed POST /postcodes after 4 attempts \(HTTP 500\)"):
        client.postcodes(["EX36 4AT", "EX36 9ZZ"], now=NOW)
    assert len(server.requests("/postcodes")) == 4
    assert fresh_db["postcode_cache"].count == 0
    server.clear_faults()
    assert client.postcodes(["EX36 9ZZ", "EX36 4AT"], now=NOW)["EX36 4AT"] is not None


def test_truncated_bodies_are_retried_then_fail(client, server, fresh_db):
    server.set_fault("/postcodes", truncate=0.5)    # every body cut in half: not JSON
    with pytest.raises(PostcodesError, match="not JSON"):
        client.postcodes(["EX36 4AT", "PR3 0SG"], now=NOW)
    assert len(server.requests("/postcodes")) == 4
    assert fresh_db["postcode_cache"].count == 0


def test_failure_in_a_later_batch_keeps_only_earlier_batches(fresh_db):
    """One batch after another (concurrency 1): nothing after the failed batch is asked about."""
    (method, pattern, bulk), *others = postcodes_io.routes()
    calls = []

    def first_batch_only(req):
        calls.append(len(json.loads(req.body)["postcodes"]))
        return bulk(req) if len(calls) == 1 else Response(503, b"busy")

    with ReplayServer(routes=[(method, pattern, first_batch_only)]) as srv:
        settings = load(environ={"LBM_POSTCODES_URL": srv.url})
        settings.update(http_backoff=0.001, http_retries=2, postcodes_concurrency=1)
        wanted = [f"M{d} 1AB" for d in range(1, 100)] + ["EX36 4AT", "PR3 0SG"]
        with pytest.raises(PostcodesError, match="HTTP 503"):
            PostcodesClient(fresh_db, settings).postcodes(wanted, now=NOW)
    assert calls == [100, 1, 1, 1]
    stored = cache(fresh_db)
    assert len(stored) == 100 and "PR3 0SG" not in stored and stored["EX36 4AT"]["postcode"] == "EX36 4AT"


def test_refusal_is_not_retried(client, server):
    server.set_fault("/postcodes", status=400)
    with pytest.raises(PostcodesError, match="HTTP 400"):
        client.postcodes(["EX36 4AT"], now=NOW)
    assert len(server.requests("/postcodes")) == 1


def test_cache_hit_sends_no_request(client, server):
    client.postcodes(["EX36 4AT", "EX36 9ZZ"], now=NOW)
    again = client.postcodes(["EX36 9ZZ", "EX36 4AT"], now=NOW)
    assert again["EX36 9ZZ"] is None and again["EX36 4AT"]["admin_ward"] == "South Molton"
    assert len(server.requests("/postcodes")) == 1
    assert client.counts["postcode_cache_hit"] == 2


def test_cache_outlives_the_client(server, fresh_db):
    settings = load(environ={"LBM_POSTCODES_URL": server.url})
    PostcodesClient(fresh_db, settings).postcodes(["EX36 4AT"], now=NOW)
    PostcodesClient(fresh_db, settings).postcodes(["EX36 4AT"], now=NOW)
    assert len(server.requests("/postcodes")) == 1


def test_places_found_missing_and_cached(client, server, fresh_db):
    answers = client.places(["london", "atlantis"], now=NOW)
    assert [p.get("name_1") or p.get("place_name") for p in answers["london"]] == [
        "London", "London Colney", "Londonthorpe"]
    assert answers["atlantis"] == []
    assert client.places(["atlantis", "london"], now=NOW)["atlantis"] == []
    assert len(server.requests("/places")) == 2
    assert server.requests("/places")[0][1] == "/places?q=london&limit=10"
    assert {r["query"]: json.loads(r["result"]) for r in fresh_db["place_cache"].rows}["atlantis"] == []


def test_connection_refused_is_a_postcodes_error(fresh_db):
    settings = load(environ={"LBM_POSTCODES_URL": "http://127.0.0.1:9"})
    settings.update(http_backoff=0.001, http_retries=1)
    with pytest.raises(PostcodesError, match="after 2 attempts \\(ConnectError"):
        PostcodesClient(fresh_db, settings).postcodes(["EX36 4AT"], now=NOW)
