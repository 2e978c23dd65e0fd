"""Public Libraries News: closures, threatened closures and reopenings reported per place, as news mentions.

These are REPORTED signals, never counted as closures; spiders/sources/library_news/pipelines.py links each to a local
authority (and a library when its name is in the item). Pages: /feed?paged=N until a page is missing (404) or has no items.
"""
from __future__ import annotations

from email.utils import parsedate_to_datetime

import scrapy

from db.fields import http_url
from spiders.base import SourceSpider
from spiders.sources.library_news import records
from spiders.sources.library_news.items import NewsMention
from spiders.sources.library_news.news_items import post_items, signal_of


class LibraryNewsSpider(SourceSpider):
    name = "library_news"
    default_start_url = "https://www.publiclibrariesnews.com/feed"
    item_class = NewsMention
    schema = records.schema
    rank = 50
    ward_section = {"heading": "In the news", "rank": 50}
    digest_section = {"key": "news", "title": "Reported in the news",
                      "intro": "Reports from Public Libraries News: not confirmed closures."}
    label = "Public Libraries News"
    noun = "library news"
    licence = "CC BY 3.0 (Public Libraries News)"
    licence_url = "https://creativecommons.org/licenses/by/3.0/"
    attribution = "Public Libraries News, publiclibrariesnews.com"
    homepage = "https://www.publiclibrariesnews.com/"
    credit = "Public Libraries News, CC BY 3.0"
    closure_rule = "reports"      # news of closures, not closures
    subscription_kinds = {"news": ()}
    schedule = "0 6 * * *"   # daily
    pipelines = {"spiders.sources.library_news.pipelines.NewsLinksPipeline": 150}

    def first_requests(self):
        yield self.page(1)

    def page(self, n: int):
        return scrapy.Request(f"{self.start_url}?paged={n}", callback=self.parse, errback=self.on_page_error,
                              meta={"scope": self.name, "page": n}, dont_filter=True)

    def on_page_error(self, failure):
        response = getattr(failure.value, "response", None)
        if response is not None and response.status == 404 and failure.request.meta["page"] > 1:
            return   # past the last page, as WordPress answers
        self.on_error(failure)

    def parse(self, response):
        self.seen(self.name)
        response.selector.register_namespace("content", "http://purl.org/rss/1.0/modules/content/")
        posts = response.xpath("//channel/item")
        if not posts:
            if response.meta["page"] == 1:
                self.scope_error(self.name, f"no items in {response.url}")
            return
        for post in posts:
            yield from self.mentions(post)
        yield self.page(response.meta["page"] + 1)

    def mentions(self, post):
        url = post.xpath("link/text()").get("").strip()
        link = http_url(url)   # a feed's `javascript:` or `data:` link is never stored as a link
        if url and not link:
            self.crawler.stats.inc_value("library_news/link_refused")
        date = post.xpath("pubDate/text()").get()
        post_date = parsedate_to_datetime(date).date().isoformat() if date else None
        for index, item in enumerate(post_items(post.xpath("content:encoded/text()").get("")), 1):
            signal = signal_of(item["text"])
            if not signal:
                self.crawler.stats.inc_value("library_news/items_without_signal")
                continue
            place = item["place"]
            yield self.stamp(NewsMention(
                source=self.name, ref=f"{url}#{index}", name=f"{place or item['section']}: {item['text'][:120]}",
                authority=place, signal=signal,   # lad_code and library_id: the news-links pipeline
                post_url=link, post_date=post_date, text=item["text"], place=None, source_url=link or self.start_url,
                raw={"section": item["section"], **item}))
