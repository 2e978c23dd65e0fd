import json

from db.items import Group, Library
from spiders.pipelines.store import RecordStore, content_hash
from spiders.pipelines.validate import problems_of


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
    versions = [(r["record_id"], r["crawl_id"]) for r in fresh_db["versions"].rows_where(order_by="id")]
    assert versions == [("mutual_aid:link:a", 1), ("mutual_aid:link:b", 1), ("mutual_aid:link:b", 2),
                        ("mutual_aid:link:c", 2)]
    assert json.loads(list(fresh_db["versions"].rows_where("crawl_id = 2 and record_id like '%b'"))[0]["data"])[
        "name"] == "B renamed"


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
