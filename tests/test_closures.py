"""closures.apply_crawl on hand-made crawls: healthy scopes only, absence closes pubs, a return reopens."""
from __future__ import annotations

import json

from monitor.changes.changed_fields import changed_fields
from monitor.changes.closures import apply_crawl

SETTINGS = {"closure_missing_crawls": 2}


def crawl_with(db, crawl_id: int, healthy: bool, seen: list[str], now: str, table="pubs", source="fhrs_pubs",
               scope="Wandsworth", source_status=None, source_closed_at=None):
    """Record a crawl of one scope that saw `seen` (the store's part, done by hand)."""
    db["crawl_runs"].insert({"id": crawl_id, "source": source, "status": "ok" if healthy else "failed", "now": now},
                            pk="id")
    db["scope_runs"].insert({"crawl_id": crawl_id, "source": source, "scope": scope, "items": len(seen),
                             "healthy": int(healthy), "reason": "" if healthy else "HTTP 500"}, pk="id")
    for ref in seen:
        rid = f"{source}:{ref}"
        row = {"id": rid, "source": source, "ref": ref, "name": f"Pub {ref}", "scope": scope,
               "last_crawl_id": crawl_id, "last_seen_at": now, "source_status": (source_status or {}).get(ref, "open"),
               "source_closed_at": (source_closed_at or {}).get(ref)}
        if not db[table].count_where("id = ?", [rid]):
            row.update(first_crawl_id=crawl_id, status="open", missing_count=0)
            db["versions"].insert({"record_id": rid, "record_table": table, "crawl_id": crawl_id,
                                   "data": json.dumps({"name": row["name"]})}, pk="id")
        db[table].upsert(row, pk="id", alter=True)
    return apply_crawl(db, crawl_id, SETTINGS, now)


def kinds(db, crawl_id):
    return sorted((r["kind"], r["ref"], r["baseline"]) for r in db.query("select * from events where crawl_id = ?",
                                                                         [crawl_id]))


def test_absence_closes_after_two_healthy_crawls_and_unhealthy_ones_change_nothing(fresh_db):
    db = fresh_db
    crawl_with(db, 1, True, ["a", "b"], "2024-01-01")
    assert kinds(db, 1) == [("new", "a", 1), ("new", "b", 1)]
    crawl_with(db, 2, True, ["a"], "2024-01-02")
    assert kinds(db, 2) == [] and db["pubs"].get("fhrs_pubs:b")["missing_count"] == 1
    assert crawl_with(db, 3, False, ["a"], "2024-01-03") == []
    assert db["pubs"].get("fhrs_pubs:b")["missing_count"] == 1
    crawl_with(db, 4, True, ["a"], "2024-01-04")
    assert kinds(db, 4) == [("closed", "b", 0)]
    b = db["pubs"].get("fhrs_pubs:b")
    assert (b["status"], b["closed_by"], b["closed_at"]) == ("closed", "absence", "2024-01-04")
    (event,) = db.query("select evidence from events where crawl_id = 4")
    assert json.loads(event["evidence"])["crawl_ids"] == [2, 4]
    crawl_with(db, 5, True, ["a", "b"], "2024-01-05")
    assert kinds(db, 5) == [("reopened", "b", 0)]
    b = db["pubs"].get("fhrs_pubs:b")
    assert (b["status"], b["closed_at"], b["closed_by"], b["missing_count"]) == ("open", None, None, 0)


def test_libraries_close_when_the_source_says_so_or_two_full_lists_lack_them(fresh_db):
    db = fresh_db
    crawl_with(db, 1, True, ["x", "y"], "2016-07-01", table="libraries", source="libraries", scope="libraries",
               source_status={"y": "closed"})
    assert kinds(db, 1) == [("closed", "y", 1), ("new", "x", 1), ("new", "y", 1)]
    crawl_with(db, 2, True, ["y"], "2021-01-01", table="libraries", source="libraries", scope="libraries",
               source_status={"y": "closed"})
    crawl_with(db, 3, True, ["y"], "2023-01-01", table="libraries", source="libraries", scope="libraries",
               source_status={"y": "closed"})
    # Missing from one list is nothing; from two healthy full lists, closed by absence, dated by the first list
    # without it, so a closure of 2021 first concluded in 2023 is backfill, not news.
    assert kinds(db, 2) == []
    assert kinds(db, 3) == [("closed", "x", 0)]
    x = db["libraries"].get("libraries:x")
    assert (x["status"], x["closed_by"], x["closed_at"][:10]) == ("closed", "absence", "2021-01-01")
    event = db.execute("select closed_on, backfill from events where crawl_id = 3").fetchone()
    assert event == ("2021-01-01", 1)
    assert db["libraries"].get("libraries:y")["closed_by"] == "source"


def test_changed_fields():
    assert changed_fields('{"name": "A", "last_crawl_id": 1}', '{"name": "B", "last_crawl_id": 2}') == \
        {"name": ["A", "B"]}
    assert changed_fields(None, '{"name": "B"}') == {}


def test_an_announced_closure_is_a_warning_until_a_later_list_shows_it_closed(fresh_db):
    """Parr Library, St. Helens: the December 2023 list says closed "2024" (operation LA, open that morning)."""
    db = fresh_db
    lib = {"table": "libraries", "source": "libraries", "scope": "libraries"}
    crawl_with(db, 1, True, ["parr"], "2021-01-04T06:00:00", **lib)
    says = {"source_status": {"parr": "closed"}, "source_closed_at": {"parr": "2024"}}
    crawl_with(db, 2, True, ["parr"], "2023-12-04T06:00:00", **lib, **says)
    assert kinds(db, 2) == [("announced", "parr", 0)]
    event = db.execute("select closed_on, window_from, window_to, backfill from events where crawl_id = 2").fetchone()
    assert event == ("2024", "2021-01-04", "2023-12-04", 0)
    assert db["libraries"].get("libraries:parr")["status"] == "open"      # never counted closed
    crawl_with(db, 3, True, ["parr"], "2023-12-11T06:00:00", **lib, **says)
    assert kinds(db, 3) == []                                             # told once
    crawl_with(db, 4, True, ["parr"], "2024-12-02T06:00:00", **lib, **says)   # a later list: closed in 2024
    assert kinds(db, 4) == [("closed", "parr", 0)]
    event = db.execute("select closed_on, window_from, window_to, backfill from events where crawl_id = 4").fetchone()
    assert event == ("2024", "2023-12-11", "2024-12-02", 0)
    parr = db["libraries"].get("libraries:parr")
    assert (parr["status"], parr["closed_at"], parr["announced"]) == ("closed", "2024", None)


def test_a_temporary_closure_is_announced_and_lifted_without_a_closure(fresh_db):
    """Gotham, Nottinghamshire: operation_23 "Temporary Closure", closure column empty."""
    db = fresh_db
    lib = {"table": "libraries", "source": "libraries", "scope": "libraries"}
    crawl_with(db, 1, True, ["gotham"], "2021-01-04T06:00:00", **lib)
    crawl_with(db, 2, True, ["gotham"], "2023-12-04T06:00:00", **lib,
               source_status={"gotham": "temporarily_closed"})
    assert kinds(db, 2) == [("announced", "gotham", 0)]
    # Undated, last listed open three years before: a warning, but not this week's news.
    assert db.execute("select backfill from events where crawl_id = 2").fetchone() == (1,)
    crawl_with(db, 3, True, ["gotham"], "2024-06-03T06:00:00", **lib)
    assert kinds(db, 3) == [] and db["libraries"].get("libraries:gotham")["announced"] is None
    assert db.execute("select count(*) from events where kind = 'closed'").fetchone() == (0,)
