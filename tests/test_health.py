from core.config import defaults
from monitor.changes import health


def _history(db, source, scope, counts):
    for i, n in enumerate(counts, 1):
        db["crawl_runs"].insert({"id": i, "source": source, "status": "ok"}, pk="id")
        db["scope_runs"].insert({"crawl_id": i, "source": source, "scope": scope, "items": n, "errors": 0,
                                 "healthy": 1, "reason": "", "at": f"2020-01-0{i}"}, pk="id")
    return len(counts) + 1


def _judge(db, stats, crawl_id, error=None, source="fhrs_pubs"):
    return {v.scope: v for v in health.judge(db, source, crawl_id, stats, defaults(), error)}


def test_scope_counts_reads_items_errors_reasons():
    stats = {"scope/Wandsworth/items": 128, "scope/Hartlepool/errors": 1,
             "scope/Hartlepool/reason": "HTTP 500", "store/new": 3}
    assert health.scope_counts(stats) == {
        "Wandsworth": {"items": 128, "errors": 0, "reason": ""},
        "Hartlepool": {"items": 0, "errors": 1, "reason": "HTTP 500"}}


def test_first_crawl_with_items_is_healthy_and_empty_one_is_not(fresh_db):
    v = _judge(fresh_db, {"scope/A/items": 10, "scope/B/seen": 1}, 1)
    assert v["A"].healthy and not v["B"].healthy
    assert v["B"].reason == "no items"


def test_under_share_of_median_is_unhealthy(fresh_db):
    crawl = _history(fresh_db, "fhrs_pubs", "Wandsworth", [146, 140, 150])
    ok = _judge(fresh_db, {"scope/Wandsworth/items": 117}, crawl)["Wandsworth"]   # 117 >= 0.8 * 146
    half = _judge(fresh_db, {"scope/Wandsworth/items": 73}, crawl)["Wandsworth"]
    assert ok.healthy
    assert not half.healthy and "under 80% of the median 146" in half.reason


def test_scope_absent_now_counts_as_zero(fresh_db):
    crawl = _history(fresh_db, "fhrs_pubs", "Halton", [81])
    v = _judge(fresh_db, {"scope/Wandsworth/items": 146}, crawl)
    assert not v["Halton"].healthy and v["Halton"].items == 0
    assert v["Halton"].reason == "absent from this crawl"


def test_errors_and_crawl_failure_make_every_scope_unhealthy(fresh_db):
    v = _judge(fresh_db, {"scope/A/items": 10, "scope/A/errors": 1, "scope/A/reason": "timeout fetching x"}, 1)
    assert v["A"].reason == "timeout fetching x"
    v = _judge(fresh_db, {"scope/A/items": 10, "spider_exceptions/count": 2}, 1)
    assert not v["A"].healthy and "parse errors" in v["A"].reason
    v = _judge(fresh_db, {}, 1, error="crawl stopped after its 60 s timeout", source="mutual_aid")
    assert not v["mutual_aid"].healthy and "timeout" in v["mutual_aid"].reason


def test_record_returns_crawl_status(fresh_db):
    fresh_db["crawl_runs"].insert({"id": 1, "source": "fhrs_pubs"}, pk="id")
    ok = health.ScopeHealth("A", 3, 0, True, "")
    bad = health.ScopeHealth("B", 0, 1, False, "HTTP 500")
    assert health.record(fresh_db, "fhrs_pubs", 1, [ok, bad], "2020-01-01") == "partial"
    assert health.record(fresh_db, "fhrs_pubs", 1, [bad], "2020-01-01") == "failed"
    assert health.record(fresh_db, "fhrs_pubs", 1, [ok], "2020-01-01") == "ok"


def test_failure_event_raised_once_per_streak(fresh_db):
    raised = []
    for i in range(1, 6):
        fresh_db["crawl_runs"].insert({"id": i, "source": "libraries", "status": "failed", "reason": f"HTTP 500 #{i}"},
                                      pk="id")
        raised.append(health.raise_failure_event(fresh_db, "libraries", i, defaults(), f"2020-01-0{i}"))
    assert raised == [False, False, True, False, False]
    event = next(fresh_db["events"].rows)
    assert event["kind"] == "source_failing" and "3 failed crawls" in event["name"]
