"""Public Libraries News: closures, threatened closures and reopenings reported per place, as news mentions.

These are REPORTED signals, linked to a local authority (and a library when its name is in the item); they
are never counted as closures. Pages: /feed?paged=N until a page is missing (404) or has no items.
"""
from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

import scrapy

from db.items import NewsMention
from spiders.base import SourceSpider
from spiders.library_match import name_words, norm_authority
from spiders.news_items import post_items, signal_of
from spiders.pipelines.context import crawl_context


class LibraryNewsSpider(SourceSpider):
    name = "library_news"
    default_start_url = "https://www.publiclibrariesnews.com/feed"
    licence = "CC BY 3.0 (Public Libraries News)"
    attribution = "Public Libraries News, publiclibrariesnews.com"

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
        places = self.places()
        for post in posts:
            yield from self.mentions(post, places)
        yield self.page(response.meta["page"] + 1)

    def places(self) -> dict:
        """Local authority districts and stored libraries, to link an item to (read once per crawl)."""
        if not hasattr(self, "_places"):
            db = crawl_context(self.crawler).store.db
            lads = {norm_authority(n): c for c, n in db.execute("select distinct lad_code, lad_name from wards")}
            libraries = db.execute("select id, name, authority from libraries").fetchall() \
                if db["libraries"].exists() and "authority" in db["libraries"].columns_dict else []
            self._places = {"lads": lads, "libraries": libraries}
        return self._places

    def mentions(self, post, places):
        url = post.xpath("link/text()").get("").strip()
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
                authority=place, lad_code=places["lads"].get(norm_authority(place)) if place else None,
                library_id=self.library_id(item["text"], place, places["libraries"]), signal=signal,
                post_url=url, post_date=post_date, text=item["text"], place=None, source_url=url,
                raw={"section": item["section"], **item}))

    @staticmethod
    def library_id(text: str, place: str | None, libraries) -> str | None:
        """The stored library of that authority whose name words all appear in the item (the longest name)."""
        if not place:
            return None
        words = set(name_words(re.sub(r"[\u2019']s\b", "", text)))
        found = [(len(name_words(n)), i) for i, n, a in libraries
                 if norm_authority(a) == norm_authority(place) and name_words(n) <= words]
        return max(found)[1] if found else None
