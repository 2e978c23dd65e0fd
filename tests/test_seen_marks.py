"""Seen marks: a grant listed again unchanged is marked in grants_seen, not by rewriting its row; every reader of
"which crawl last listed it" takes the later of the two."""
from __future__ import annotations

from db import seen
from db.schema import migrate
from monitor.changes.crawl import mark_provisional
from monitor.changes.health import ScopeHealth
from spiders import registry

NOW = "2024-06-08T00:00:00+00:00"


def grant(i: int, crawl: int, **extra) -> dict:
    return {"id": f"threesixty_giving:G-{i}", "source": "threesixty_giving", "scope": "threesixty_giving",
            "ref": f"G-{i}", "source_url": "http://x/f.json", "status": "open", "first_crawl_id": 1,
            "last_crawl_id": crawl, "last_seen_at": f"crawl {crawl}", "input_hash": f"h{i}", **extra}


def listed(db) -> dict[str, tuple[int, str]]:
    return {r[0]: (r[1], r[2]) for r in db.execute(
        f"select r.id, {seen.last_crawl('grants')}, {seen.last_seen_at('grants')} from grants r order by r.id")}


def test_the_later_of_row_and_mark_is_when_a_grant_was_last_listed(fresh_db):
    fresh_db["grants"].insert_all([grant(1, 1), grant(2, 3), grant(3, 2)], alter=True)
    with fresh_db.conn:
        seen.touch(fresh_db, "grants", ["threesixty_giving:G-1", "threesixty_giving:G-2"], 2, "crawl 2")
    # G-1: row says 1, mark says 2 -> 2. G-2: its row was rewritten by crawl 3 after the mark of 2 -> 3. G-3: no mark.
    assert listed(fresh_db) == {"threesixty_giving:G-1": (2, "crawl 2"), "threesixty_giving:G-2": (3, "crawl 3"),
                                "threesixty_giving:G-3": (2, "crawl 2")}
    assert fresh_db.execute("select last_crawl_id from grants where ref = 'G-1'").fetchone()[0] == 1   # row as it was
    with fresh_db.conn:
        n = seen.touch_where(fresh_db, "grants", f"r.source_url = ? and {seen.last_crawl('grants')} = ?",
                             ["http://x/f.json", 2], 4, "crawl 4")
    assert n == 2 and {k: v[0] for k, v in listed(fresh_db).items()} == {
        "threesixty_giving:G-1": 4, "threesixty_giving:G-2": 3, "threesixty_giving:G-3": 4}


def test_a_table_not_kept_apart_is_marked_in_its_rows(fresh_db):
    fresh_db["pubs"].insert({"id": "fhrs_pubs:1", "source": "fhrs_pubs", "last_crawl_id": 1}, alter=True)
    with fresh_db.conn:
        seen.touch(fresh_db, "pubs", ["fhrs_pubs:1"], 2, "crawl 2")
    assert seen.apart("grants") and not seen.apart("pubs") and not fresh_db["pubs_seen"].exists()
    assert fresh_db.execute("select last_crawl_id, last_seen_at from pubs").fetchone() == (2, "crawl 2")


def test_provisional_grants_are_judged_by_their_marks(fresh_db):
    # Written by unhealthy crawl 2 (provisional); healthy crawl 3 lists G-1 again unchanged (a mark only) and not
    # G-2: G-1 is confirmed, G-2 was only ever seen by the broken crawl and goes, with its mark.
    fresh_db["grants"].insert_all([grant(1, 2, first_crawl_id=2, provisional=2),
                                   grant(2, 2, first_crawl_id=2, provisional=2)], alter=True)
    with fresh_db.conn:
        seen.touch(fresh_db, "grants", ["threesixty_giving:G-1", "threesixty_giving:G-2"], 2, "crawl 2")
        seen.touch(fresh_db, "grants", ["threesixty_giving:G-1"], 3, "crawl 3")
    mark_provisional(fresh_db, "threesixty_giving", 3, [ScopeHealth("threesixty_giving", 1, 0, True, "")])
    assert fresh_db.execute("select id, provisional from grants").fetchall() == [("threesixty_giving:G-1", None)]
    assert fresh_db.execute("select id from grants_seen").fetchall() == [("threesixty_giving:G-1",)]


def test_an_older_store_gets_the_side_table_and_its_waiting_grants_lose_their_input_hash(fresh_db):
    fresh_db["grants"].insert_all([grant(1, 1, ward_code=None, geo_reason="postcodes.io unavailable"),
                                   grant(2, 1, ward_code=None, geo_reason="postcode not found"),
                                   grant(3, 1, ward_code="E05000001")], alter=True)
    fresh_db.execute("drop table grants_seen")
    fresh_db.execute("delete from _migrations where name in ('m022_grants_seen', 'm023_unresolved_grants_unhashed')")
    assert migrate(fresh_db) == ["m022_grants_seen", "m023_unresolved_grants_unhashed"]
    assert fresh_db["grants_seen"].exists()
    assert fresh_db.execute("select ref, input_hash from grants order by ref").fetchall() == [
        ("G-1", None), ("G-2", "h2"), ("G-3", "h3")]
    plan = " ".join(str(r) for r in fresh_db.execute(
        "explain query plan select 1 from grants where source = ? and source_url = ? and input_hash is null",
        ["threesixty_giving", "http://x/f.json"]))
    assert "idx_grants_waiting" in plan


def test_after_a_healthy_crawl_only_flagged_rows_are_read(fresh_db):
    fresh_db.execute("drop index idx_grants_provisional")
    fresh_db.execute("delete from _migrations where name = 'm024_provisional_index'")
    assert migrate(fresh_db) == ["m024_provisional_index"] * len(registry.record_table_names())   # one a table
    plan = " ".join(str(r) for r in fresh_db.execute(
        "explain query plan update grants as r set provisional = null where source = ? and scope = ? "
        f"and provisional is not null and {seen.last_crawl('grants')} = ?", ["threesixty_giving", "s", 3]))
    assert "USING INDEX idx_grants_provisional" in plan
    assert all(fresh_db.execute(f"select 1 from sqlite_master where name = 'idx_{t}_provisional'").fetchone()
               for t in ("groups", "grants", "pubs", "libraries"))
