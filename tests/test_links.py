"""Only http(s) URLs become links: in alerts and the digest, and a news feed's other links are never stored."""
from __future__ import annotations

import email
import json
from email import policy

import pytest
from bs4 import BeautifulSoup

from db.fields import http_url
from monitor.delivery import subscriptions
from monitor.delivery.mailer import MaildirTransport
from monitor.reports import alerts
from monitor.reports.digest import render_digest
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer, Response
from spiders.sources.library_news.replay import HERE, PATH
from tests.delivery_seed import LB_WARD, add_crawl, add_event, add_record, settings
from tests.replay_crawl import crawl

NOW = "2024-03-05T06:00:00+00:00"
HOSTILE_URLS = ["javascript:alert(document.cookie)", "JavaScript:alert(1)", " javascript:alert(1)",
                "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
                "//evil.example/x", "/relative/path", "http:///no-host", "https://example.org/\u202egnp.exe"]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_only_http_urls_with_a_host_may_be_links(url):
    assert http_url(url) is None


@pytest.mark.parametrize("url", ["https://www.publiclibrariesnews.com/2017/02/x.html", "HTTP://EXAMPLE.ORG/a?b=c",
                                 "https://en.wikipedia.org/wiki/O'Neill"])
def test_http_urls_stay_links(url):
    assert http_url(url) == url


def _hrefs(html: str) -> list[str]:
    return [a["href"] for a in BeautifulSoup(html, "html.parser").find_all("a", href=True)]


def test_an_alert_and_the_digest_link_no_javascript_source_url(fresh_db, private_db, tmp_path):
    crawl_id = add_crawl(fresh_db, "fhrs_pubs", NOW)
    for n, url in enumerate(["javascript:alert(1)", "data:text/html,x", "https://ratings.food.gov.uk/x"]):
        rid = add_record(fresh_db, "pubs", "fhrs_pubs", f"r{n}", f"Pub {n}", LB_WARD, source_url=url)
        add_event(fresh_db, "closed", "fhrs_pubs", rid, f"Pub {n}", LB_WARD, crawl_id, NOW)
    subscriptions.subscribe(private_db, fresh_db, "ann@example.org", wards=[LB_WARD], now=NOW)
    s = settings(tmp_path)
    assert alerts.send_alerts(fresh_db, private_db, s, crawl_id, NOW, transport=MaildirTransport(s["maildir"])) == 1
    [path] = (tmp_path / "mail" / "new").iterdir()
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    mails = [message.get_body(("html",)).get_content(), render_digest(fresh_db, s, NOW)[1]]
    for html in mails:
        hrefs = _hrefs(html)
        assert "https://ratings.food.gov.uk/x" in hrefs
        assert all(h.lower().startswith(("http://", "https://", "mailto:")) for h in hrefs), hrefs


def test_a_feeds_javascript_and_data_links_are_not_stored(fresh_db, db_path):
    feed = (HERE / "feed_paged_1.xml").read_text(encoding="utf-8")
    feed = feed.replace("<link>https://www.publiclibrariesnews.com/2017/02/walsall-consults-on-library-changes.html",
                        "<link>javascript:alert(document.domain)//")
    feed = feed.replace("<link>https://www.publiclibrariesnews.com/2016/04/closures-confirmed-in-lambeth.html",
                        "<link>data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==")

    def page(req):
        if req.arg("paged", "1") != "1":
            return Response(404, b"<html><body>Page not found</body></html>", {"Content-Type": "text/html"})
        return Response(200, feed.encode("utf-8"), {"Content-Type": "application/rss+xml; charset=UTF-8"})

    with ReplayServer(routes=[("GET", PATH + "/?", page)] + postcodes_io.routes()) as server:
        result, db, _ = crawl("library_news", db_path, server, "2024-01-01T06:00:00", start_url=server.url + PATH)
    rows = list(db.query("select post_url, source_url from news_mentions"))
    assert result.status == "ok" and rows
    assert all(r["post_url"] is None for r in rows)
    assert not any(url.startswith(("javascript", "data")) for r in rows for url in r.values() if url)
    assert json.loads(db["crawl_runs"].get(result.crawl_id)["stats"])["library_news/link_refused"] == 2   # 2 posts
