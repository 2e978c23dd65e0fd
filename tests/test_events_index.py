"""The news feeds read the news through their own partial index, never by scanning every baseline event."""
from __future__ import annotations

from db.schema import public
from monitor.web import wards as wq


def test_the_left_behind_feed_walks_the_news_index_newest_first(fresh_db):
    fresh_db["events"].insert_all([{"kind": "new", "source": "fhrs_pubs", "record_id": f"fhrs_pubs:{i}", "name": "x",
                                    "ward_code": "E05008947", "at": f"2024-01-{1 + i % 28:02d}", "crawl_id": 1,
                                    "baseline": int(i % 10 != 0)} for i in range(1000)])
    captured = []
    conn = fresh_db.conn
    conn.set_trace_callback(captured.append)
    rows = wq.events(conn, "leftbehind", left_behind=True, limit=5)
    conn.set_trace_callback(None)
    assert [r["at"] for r in rows] == sorted((r["at"] for r in rows), reverse=True) and len(rows) == 5
    query = next(q for q in captured if "from events e" in q)
    plan = " ".join(r[3] for r in conn.execute("explain query plan " + query))
    assert "USING INDEX idx_events_news" in plan and "TEMP B-TREE" not in plan, plan


def test_the_news_index_comes_by_migration(fresh_db):
    fresh_db.execute("drop index idx_events_news")
    fresh_db.execute("delete from _migrations where name = 'm027_news_events_index'")
    assert public.apply(fresh_db) == ["m027_news_events_index"]
    assert fresh_db.execute("select 1 from sqlite_master where name = 'idx_events_news'").fetchone()
