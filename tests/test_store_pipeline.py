import json

from monitor.changes.closures import apply_crawl
from spiders.pipelines.store import RecordStore, canonical_json, content_hash
from spiders.pipelines.validate import problems_of
from spiders.sources.libraries.items import Library
from spiders.sources.mutual_aid.items import Group


def _group(ref="link:a", name="Abbey Wood Mutual Aid", **kw):
    return Group(source="mutual_aid", ref=ref, name=name, scope="mutual_aid", **kw)


def test_content_hash_ignores_volatile_fields():
    a = _group(source_id="1", link="https://m.facebook.com/groups/1", source_url="http://a")
    b = _group(source_id="uuid", link="https://www.facebook.com/groups/1/", source_url="http://b")
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(_group(name="Abbey Wood Covid Support"))


def test_store_counts_new_changed_unchanged_and_appends_versions(fresh_db):
    first = RecordStore(fresh_db, crawl_id=1, now="2020-03-18T06:00:00")
    c1 = first.write([_group("link:a"), _group("link:b", name="B"), _group("link:a")])
    assert (c1["new"], c1["duplicate"], c1["scope/mutual_aid/items"]) == (2, 1, 2)
    second = RecordStore(fresh_db, crawl_id=2, now="2020-03-27T06:00:00")
    c2 = second.write([_group("link:a"), _group("link:b", name="B renamed"), _group("link:c", name="C")])
    assert (c2["new"], c2["changed"], c2["unchanged"]) == (1, 1, 1)
    a = fresh_db["groups"].get("mutual_aid:link:a")
    assert (a["first_crawl_id"], a["last_crawl_id"], a["last_seen_at"]) == (1, 2, "2020-03-27T06:00:00")
    assert a["status"] == "open"
    # A first-seen record is its own first version; b's first content is written out when b changes.
    versions = [(r["record_id"], r["crawl_id"], r["at"]) for r in fresh_db["versions"].rows_where(order_by="id")]
    assert versions == [("mutual_aid:link:b", 1, "2020-03-18T06:00:00"), ("mutual_aid:link:b", 2, "2020-03-27T06:00:00")]
    first, second_b = fresh_db["versions"].rows_where("record_id like '%b'", order_by="id")
    assert json.loads(first["data"]) == json.loads(canonical_json(_group("link:b", name="B")))
    assert first["content_hash"] == content_hash(_group("link:b", name="B"))
    assert json.loads(second_b["data"])["name"] == "B renamed"


def test_a_change_after_an_unversioned_first_crawl_is_reported_with_its_fields(fresh_db):
    for crawl_id, now, name in ((1, "2020-03-18", "B"), (2, "2020-03-27", "B renamed")):
        fresh_db["crawl_runs"].insert({"id": crawl_id, "source": "mutual_aid", "status": "ok", "now": now}, pk="id")
        fresh_db["scope_runs"].insert({"crawl_id": crawl_id, "source": "mutual_aid", "scope": "mutual_aid",
                                       "items": 1, "healthy": 1, "reason": ""}, pk="id")
        RecordStore(fresh_db, crawl_id, now).write([_group("link:b", name=name, postcode="SE2 9AA")])
        apply_crawl(fresh_db, crawl_id, {"closure_missing_crawls": 2}, now)
    (event,) = fresh_db.query("select kind, evidence from events where crawl_id = 2")
    assert event["kind"] == "changed"
    assert json.loads(event["evidence"]) == {"fields": {"name": ["B", "B renamed"]}}


def test_a_number_in_a_text_column_keeps_its_first_version(fresh_db):
    # SQLite would read 100012345 back as text from the text column: the row could not stand in for the version.
    RecordStore(fresh_db, 1, "2020-01-01").write([Library(source="libraries", ref="u1", name="L", uprn=100012345)])
    RecordStore(fresh_db, 1, "2020-01-01").write([Library(source="libraries", ref="u2", name="M", uprn="100012346")])
    (row,) = fresh_db["versions"].rows
    assert row["record_id"] == "libraries:u1" and json.loads(row["data"])["uprn"] == 100012345


def test_store_keeps_closure_state_of_existing_records(fresh_db):
    RecordStore(fresh_db, 1, "2020-01-01").write([Library(source="libraries", ref="u1", name="Old Library")])
    fresh_db["libraries"].update("libraries:u1", {"status": "closed", "closed_by": "source"})
    RecordStore(fresh_db, 2, "2021-01-01").write(
        [Library(source="libraries", ref="u1", name="Old Library", status="closed", closed_at="2020")])
    row = fresh_db["libraries"].get("libraries:u1")
    assert (row["status"], row["source_status"], row["source_closed_at"]) == ("closed", "closed", "2020")


def test_quarantine_keeps_raw_row_and_reason(fresh_db):
    fresh_db["crawl_runs"].insert({"id": 1, "source": "mutual_aid", "status": "running"}, pk="id")
    store = RecordStore(fresh_db, 1, "2020-01-01")
    item = _group(ref="", name="", raw={"Group name": "", "Location": "Leeds"})
    reasons = problems_of(item)
    assert reasons == ["no stable identifier", "no name"]
    store.quarantine(item, "; ".join(reasons))
    row = next(fresh_db["quarantine"].rows)
    assert row["reason"] == "no stable identifier; no name"
    assert json.loads(row["raw"]) == {"Group name": "", "Location": "Leeds"}
