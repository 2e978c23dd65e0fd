"""library_news: post bodies split per place, signals read, linked to authorities and libraries; never closures."""
from __future__ import annotations

import pytest

from spiders.replay.catalogue import replay_server, start_urls
from spiders.sources.library_news.news_items import post_items, signal_of
from tests.replay_crawl import crawl, events


@pytest.mark.parametrize("text, signal", [
    ("Council proposes to close Pelsall Library, with a consultation", "threatened"),
    ("Woodseats Library reopened as a volunteer-run library", "reopening"),
    ("Carnegie Library closed to the public on Thursday", "closure"),
    ("West View Library at risk as the council cuts its budget", "threatened"),
    ("New opening hours at Ashford library", None)])
def test_signal_of(text, signal):
    assert signal_of(text) == signal


def test_post_items_sections_and_places():
    html = ("<p>Intro.</p><p><strong>Changes by authority</strong></p><ul><li>Walsall – to close.</li></ul>"
            "<p><strong>National news</strong></p><ul><li>Report – could close.</li></ul>")
    assert post_items(html) == [{"section": "Changes by authority", "place": "Walsall", "text": "to close."},
                                {"section": "National news", "place": None, "text": "Report – could close."}]


def test_crawl_feed_pages_into_reported_mentions(fresh_db, db_path):
    fresh_db["libraries"].insert_all([
        {"id": "libraries:a", "source": "libraries", "ref": "a", "name": "Pelsall Library", "authority": "Walsall"},
        {"id": "libraries:b", "source": "libraries", "ref": "b", "name": "Woodseats", "authority": "Sheffield"}],
        pk="id", alter=True)
    with replay_server() as server:
        result, db, ids = crawl("library_news", db_path, server, "2024-01-01T06:00:00",
                                start_url=start_urls(server.url)["library_news"])
        assert [r[1].split("?")[1] for r in server.requests("/feed")] == ["paged=1", "paged=2", "paged=3"]
    assert result.status == "ok" and result.counts["items"] == 7
    rows = {r["ref"].rsplit("/", 1)[1]: r for r in db.query("select * from news_mentions")}
    walsall = rows["walsall-consults-on-library-changes.html#1"]
    assert (walsall["signal"], walsall["authority"], walsall["lad_code"], walsall["library_id"]) == \
        ("threatened", "Walsall", "E08000030", "libraries:a")
    assert walsall["post_date"] == "2017-02-12"
    assert rows["walsall-consults-on-library-changes.html#2"]["library_id"] == "libraries:b"
    assert rows["walsall-consults-on-library-changes.html#4"]["lad_code"] is None   # national news: no place
    assert rows["hartlepool-mobile-library-under-threat.html#2"]["signal"] == "reopening"
    assert sorted(r["signal"] for r in rows.values()).count("closure") == 2
    assert len(events(db, result.crawl_id, "new")) == 7 and events(db, result.crawl_id, "closed") == []
    assert db.execute("select count(*) from news_mentions where status = 'closed'").fetchone()[0] == 0
