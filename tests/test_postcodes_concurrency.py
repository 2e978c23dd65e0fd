"""postcodes.io client, concurrent and paced: same answers as one batch at a time, bounded in flight, rate-limited,
Retry-After honoured, a failed batch raised while the others stay cached. Against the replay emulator."""
from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest

from core.config import load
from core.errors import PostcodesError
from db.schema import public
from db.store import connect
from geo.postcodes import PostcodesClient, retry_after_seconds
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer, Response

NOW = "2024-05-01T09:00:00+00:00"
# Every postcode the emulator has a record of, read from its data files (not from the client).
KNOWN = postcodes_io.load_data()[0]


class Recorder:
    """Wrap the emulator's bulk route: note when each request arrived, its postcodes, and the most in flight."""

    def __init__(self, handler, answer=None):
        self.handler, self.answer = handler, answer
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        self.arrivals: list[float] = []
        self.asked: list[list[str]] = []

    def __call__(self, req):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.arrivals.append(time.monotonic())
            self.asked.append(json.loads(req.body)["postcodes"])
        try:
            return (self.answer or (lambda r: None))(req) or self.handler(req)
        finally:
            with self.lock:
                self.in_flight -= 1


def serve(latency: float = 0.0, answer=None) -> tuple[ReplayServer, Recorder]:
    """Return a replay server of postcodes.io whose bulk route is recorded (and maybe answered by `answer`)."""
    (method, pattern, bulk), *others = postcodes_io.routes(latency=latency)
    recorder = Recorder(bulk, answer)
    return ReplayServer(routes=[(method, pattern, recorder), *others]), recorder


def short_sleep(seconds: float) -> None:
    """Sleep, but fail at once where the client would wait minutes (a hung test says nothing)."""
    assert seconds < 10, f"the client meant to sleep {seconds:.0f} s"
    time.sleep(seconds)


def client_for(db, server, **settings) -> PostcodesClient:
    values = load(environ={"LBM_POSTCODES_URL": server.url})
    values.update({"http_backoff": 0.001, "http_retries": 3, "postcodes_rate_per_second": 0, **settings})
    return PostcodesClient(db, values, sleep=short_sleep)


def new_db(path):
    db = connect(path)
    public.apply(db)
    return db


def cache(db) -> dict:
    return {r["postcode"]: (json.loads(r["result"]), r["fetched_at"]) for r in db["postcode_cache"].rows}


def made_up(n: int) -> list[str]:
    # Valid in form, absent from the emulator's records: postcodes.io answers these null.
    made = [f"{area}{d} {k}{a}B" for area in ("M", "BB") for d in range(1, 60) for k in range(10) for a in "ADEFG"]
    assert not {pc.replace(" ", "") for pc in made} & set(KNOWN)
    return made[:n]


def test_concurrent_lookups_give_the_sequential_answers_and_cache(tmp_path):
    known = sorted(KNOWN)
    wanted = [pc[:-3] + " " + pc[-3:] for pc in known] + made_up(640)
    wanted = wanted[::2] + wanted[1::2] + wanted[:30]          # shuffled, with repeats
    results = {}
    with serve(latency=0.1)[0] as server:      # slow enough that the four batches overlap
        for concurrency in (1, 4):
            db = new_db(tmp_path / f"c{concurrency}.db")
            client = client_for(db, server, postcodes_concurrency=concurrency)
            results[concurrency] = (client.postcodes(wanted, now=NOW), cache(db), client.counts["postcode_requests"])
            client.close()
    (seq, seq_cache, seq_requests), (par, par_cache, par_requests) = results[1], results[4]
    assert list(par) == list(dict.fromkeys(wanted))           # answers in the order asked
    assert par == seq and par_cache == seq_cache
    distinct = len(dict.fromkeys(wanted))
    assert seq_requests == par_requests == -(-distinct // 100) == 7     # 657 distinct postcodes
    for pc, (result, fetched_at) in par_cache.items():
        compact = pc.replace(" ", "")
        assert result == KNOWN.get(compact) and fetched_at == NOW
    assert sum(r is not None for r in par.values()) == len(known) == 17


def test_no_more_requests_in_flight_than_the_setting(fresh_db):
    server, recorder = serve(latency=0.3)    # slow answers, so the batches overlap if they may
    with server:
        client = client_for(fresh_db, server, postcodes_concurrency=3)
        answers = client.postcodes(made_up(1200), now=NOW)
    assert len(answers) == 1200 and len(recorder.asked) == 12
    assert 2 <= recorder.max_in_flight <= 3


def test_rate_limit_spaces_requests(fresh_db):
    server, recorder = serve()
    with server:
        client = client_for(fresh_db, server, postcodes_concurrency=4, postcodes_rate_per_second=20)
        start = time.monotonic()
        client.postcodes(made_up(4000), now=NOW)
        took = time.monotonic() - start
    assert len(recorder.arrivals) == 40
    # 40 requests, at most 20 a second and evenly spaced: the last starts at least 39/20 = 1.95 s after the first.
    # Lower bounds only (a loaded machine makes it slower, never faster); the server's clock allows for jitter.
    assert took >= 1.9
    assert recorder.arrivals[-1] - recorder.arrivals[0] >= 1.5


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_waited_for_then_retried(fresh_db, status):
    statuses = []

    def busy_once(req):
        statuses.append(status if not statuses else 200)
        return Response(status, b'{"status": 0}', {"Retry-After": "1"}) if statuses[-1] == status else None

    server, recorder = serve(answer=busy_once)
    with server:
        client = client_for(fresh_db, server)
        answers = client.postcodes(["LE3 3PZ", "EX36 9ZZ"], now=NOW)
    assert answers["LE3 3PZ"]["codes"]["lsoa11"] == "E01025638" and answers["EX36 9ZZ"] is None
    assert statuses == [status, 200] and client.counts["http_retries"] == 1
    # The backoff is 1 ms: only the server's Retry-After explains a second's wait.
    assert recorder.arrivals[1] - recorder.arrivals[0] >= 0.9


def test_429_asking_too_long_a_wait_fails_without_retrying(fresh_db):
    server, recorder = serve(answer=lambda req: Response(429, b"{}", {"Retry-After": "3600"}))
    with server:
        with pytest.raises(PostcodesError, match="asked to wait 3600 s"):
            client_for(fresh_db, server).postcodes(["LE3 3PZ"], now=NOW)
    assert len(recorder.asked) == 1 and fresh_db["postcode_cache"].count == 0


@pytest.mark.parametrize("header, seconds", [
    ("120", 120.0), ("0", 0.0), ("-5", 0.0), ("Wed, 01 May 2024 09:00:30 GMT", 30.0),
    ("Wed, 01 May 2024 08:00:00 GMT", 0.0), ("soon", None), ("", None), (None, None),
])
def test_retry_after_seconds(header, seconds):
    assert retry_after_seconds(header, now=datetime(2024, 5, 1, 9, 0, tzinfo=UTC)) == seconds


def test_a_batch_failing_for_good_raises_and_the_others_stay_cached(fresh_db):
    batches = [made_up(500)[i:i + 100] for i in range(0, 500, 100)]

    def first_batch_fails(req):
        return Response(503, b"busy") if json.loads(req.body)["postcodes"] == batches[0] else None

    server, recorder = serve(latency=0.3, answer=first_batch_fails)   # the others still in flight when it fails
    with server:
        client = client_for(fresh_db, server, postcodes_concurrency=4)
        with pytest.raises(PostcodesError, match="after 4 attempts \\(HTTP 503\\)"):
            client.postcodes([pc for b in batches for pc in b], now=NOW)
        # batches 1-3 were in flight: they finish and are cached; batch 4 is never started
        assert sorted(cache(fresh_db)) == sorted(batches[1] + batches[2] + batches[3])
        assert batches[4] not in recorder.asked and recorder.asked.count(batches[0]) == 4
        recorder.answer = None
        again = client.postcodes([pc for b in batches for pc in b], now=NOW)
    assert len(again) == 500 and set(again.values()) == {None}
    assert recorder.asked[-2:] in ([batches[0], batches[4]], [batches[4], batches[0]])   # only what was missing
    assert fresh_db["postcode_cache"].count == 500
