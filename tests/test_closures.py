"""closures.apply_crawl on hand-made crawls: healthy scopes only, absence closes pubs, a return reopens."""
from __future__ import annotations

import json

from monitor.closures import apply_crawl, changed_fields

SETTINGS = {"closure_missing_crawls": 2}


def crawl_with(db, crawl_id: int, healthy: bool, seen: list[str], now: str, table="pubs", source="fhrs_pubs",
               scope="Wandsworth", source_status=None, fields=None, settings=None):
    """Record a crawl of one scope that saw `seen` (the store's part, done by hand)."""
    db["crawl_runs"].insert({"id": crawl_id, "source": source, "status": "ok" if healthy else "failed"}, pk="id")
    db["scope_runs"].insert({"crawl_id": crawl_id, "source": source, "scope": scope, "items": len(seen),
                             "healthy": int(healthy), "reason": "" if healthy else "HTTP 500"}, pk="id")
    for ref in seen:
        rid = f"{source}:{ref}"
        row = {"id": rid, "source": source, "ref": ref, "name": f"Pub {ref}", "scope": scope,
               "last_crawl_id": crawl_id, "source_status": (source_status or {}).get(ref, "open"),
               **(fields or {}).get(ref, {})}
        if not db[table].count_where("id = ?", [rid]):
            row.update(first_crawl_id=crawl_id, status="open", missing_count=0)
            db["versions"].insert({"record_id": rid, "record_table": table, "crawl_id": crawl_id,
                                   "data": json.dumps({"name": row["name"]})}, pk="id")
        db[table].upsert(row, pk="id", alter=True)
    return apply_crawl(db, crawl_id, settings or SETTINGS, now)


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


def test_libraries_close_only_when_the_source_says_so(fresh_db):
    db = fresh_db
    crawl_with(db, 1, True, ["x", "y"], "2016-07-01", table="libraries", source="libraries", scope="libraries",
               source_status={"y": "closed"})
    assert kinds(db, 1) == [("closed", "y", 1), ("new", "x", 1), ("new", "y", 1)]
    crawl_with(db, 2, True, ["y"], "2021-01-01", table="libraries", source="libraries", scope="libraries",
               source_status={"y": "closed"})
    crawl_with(db, 3, True, ["y"], "2023-01-01", table="libraries", source="libraries", scope="libraries",
               source_status={"y": "closed"})
    assert kinds(db, 2) == kinds(db, 3) == []
    assert db["libraries"].get("libraries:x")["status"] == "open"          # missing is not closed for libraries
    assert db["libraries"].get("libraries:y")["closed_by"] == "source"


def test_changed_fields():
    assert changed_fields('{"name": "A", "last_crawl_id": 1}', '{"name": "B", "last_crawl_id": 2}') == \
        {"name": ["A", "B"]}
    assert changed_fields(None, '{"name": "B"}') == {}


# Three pubs; "old" is re-registered as "new" at its address (written differently), "gone" just goes.
AT = {"old": {"address": "56A Battersea Rise, London", "postcode": "SW11 1EG"},
      "new": {"address": "56a  BATTERSEA RISE London", "postcode": "sw111eg"},
      "gone": {"address": "1 High Street", "postcode": "SW11 1AA"},
      "stay": {"address": "2 High Street", "postcode": "SW11 1AA"}}


def test_a_venue_registered_again_at_its_address_changed_hands_and_is_not_closed(fresh_db):
    db = fresh_db
    crawl_with(db, 1, True, ["old", "gone", "stay"], "2024-01-01", fields=AT)
    crawl_with(db, 2, True, ["stay", "new"], "2024-01-08", fields=AT)
    crawl_with(db, 3, True, ["stay", "new"], "2024-01-15", fields=AT)
    assert [k for k in kinds(db, 3)] == [("changed_hands", "old", 0), ("closed", "gone", 0)]
    (event,) = db.query("select * from events where kind = 'changed_hands'")
    evidence = json.loads(event["evidence"])
    assert (evidence["old_id"], evidence["new_id"], evidence["old_name"], evidence["new_name"]) == \
        ("old", "new", "Pub old", "Pub new")
    old, new = db["pubs"].get("fhrs_pubs:old"), db["pubs"].get("fhrs_pubs:new")
    assert (old["status"], old["succeeded_by"], old["closed_at"]) == ("changed_hands", "fhrs_pubs:new", None)
    assert (new["status"], new["succeeds"]) == ("open", "fhrs_pubs:old")
    assert db.execute("select count(*) from pubs where status = 'open'").fetchone()[0] == 2   # stay and new
    assert crawl_with(db, 4, True, ["stay", "new"], "2024-01-22", fields=AT) == []          # said once


def test_two_gone_and_two_new_at_one_address_stay_closures(fresh_db):
    db = fresh_db
    same = {"address": "Arch 5, Station Approach", "postcode": "SW11 2AA"}
    fields = {ref: same for ref in ("a", "b", "c", "d")}
    crawl_with(db, 1, True, ["a", "b"], "2024-01-01", fields=fields)
    crawl_with(db, 2, True, ["c", "d"], "2024-01-08", fields=fields)
    crawl_with(db, 3, True, ["c", "d"], "2024-01-15", fields=fields)
    assert kinds(db, 3) == [("closed", "a", 0), ("closed", "b", 0)]


def test_a_closure_is_superseded_by_a_registration_within_the_window_only(fresh_db):
    db = fresh_db
    crawl_with(db, 1, True, ["old", "gone", "stay"], "2024-01-01", fields=AT)
    crawl_with(db, 2, True, ["stay"], "2024-01-08", fields=AT)
    crawl_with(db, 3, True, ["stay"], "2024-01-15", fields=AT)
    assert kinds(db, 3) == [("closed", "gone", 0), ("closed", "old", 0)]
    closure = db.execute("select id from events where kind = 'closed' and ref = 'old'").fetchone()[0]
    # 11 weeks after the closure: within the default 12-week window.
    crawl_with(db, 4, True, ["stay", "new"], "2024-04-01", fields=AT)
    assert kinds(db, 4) == [("changed_hands", "old", 0), ("new", "new", 0)]
    (event,) = db.query("select * from events where kind = 'changed_hands'")
    assert json.loads(event["evidence"])["supersedes_event"] == closure
    assert db["events"].get(closure)["superseded_by"] == event["id"]
    assert db["pubs"].get("fhrs_pubs:old")["status"] == "changed_hands"


def test_a_registration_after_the_window_is_a_new_pub_and_the_closure_stands(fresh_db):
    db = fresh_db
    crawl_with(db, 1, True, ["old", "stay"], "2024-01-01", fields=AT)
    crawl_with(db, 2, True, ["stay"], "2024-01-08", fields=AT)
    crawl_with(db, 3, True, ["stay"], "2024-01-15", fields=AT)
    crawl_with(db, 4, True, ["stay", "new"], "2024-04-15", fields=AT,      # 13 weeks later
               settings={**SETTINGS, "changed_hands_window_weeks": 12})
    assert kinds(db, 4) == [("new", "new", 0)]
    assert db["pubs"].get("fhrs_pubs:old")["status"] == "closed"


def test_closure_events_carry_the_source_date_and_old_news_is_backfill(fresh_db):
    db = fresh_db
    crawl_with(db, 1, True, ["x"], "2021-01-01", table="libraries", source="libraries", scope="libraries")
    fields = {"y": {"source_closed_at": "2015"}, "z": {"source_closed_at": "2020-11-20"},
              "w": {"source_closed_at": "2020-09-01"}}
    crawl_with(db, 2, True, ["x", "y", "z", "w"], "2021-01-04", table="libraries", source="libraries",
               scope="libraries", source_status={"y": "closed", "z": "closed", "w": "closed"}, fields=fields)
    rows = {r["ref"]: (r["closed_on"], r["backfill"]) for r in db.query("select * from events where kind = 'closed'")}
    # 2021-01-04 less 90 days is 2020-10-06: 20 Nov 2020 is news, 1 Sep 2020 and 2015 are not.
    assert rows == {"y": ("2015", 1), "z": ("2020-11-20", 0), "w": ("2020-09-01", 1)}
    assert db["libraries"].get("libraries:y")["closed_at"] == "2015"
