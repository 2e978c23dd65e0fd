"""News links: tie each library news mention to its local authority district and, when named, a stored library.

The spider only parses the feed; the places it links to are in the store, so the linking is a pipeline.
"""
from __future__ import annotations

import re

from spiders.items import items_of
from spiders.pipelines.context import crawl_context
from spiders.place_names import name_words, norm_authority
from spiders.sources.library_news.items import NewsMention


def library_id(text: str, place: str | None, libraries) -> str | None:
    """Return the stored library of that authority whose name words all appear in the text (the longest name)."""
    if not place:
        return None
    words = set(name_words(re.sub(r"[\u2019']s\b", "", text)))
    found = [(len(name_words(n)), i) for i, n, a in libraries
             if norm_authority(a) == norm_authority(place) and name_words(n) <= words]
    return max(found)[1] if found else None


def load_places(db) -> dict:
    """Return local authority districts by normalised name, and the stored libraries (id, name, authority)."""
    lads = {norm_authority(n): c for c, n in db.execute("select distinct lad_code, lad_name from wards")}
    libraries = db.execute("select id, name, authority from libraries").fetchall() \
        if db["libraries"].exists() and "authority" in db["libraries"].columns_dict else []
    return {"lads": lads, "libraries": libraries}


class NewsLinksPipeline:
    """Scrapy pipeline 150: set lad_code and library_id on news mentions, counting what was linked."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.places: dict | None = None    # read once per crawl, on the first mention

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        for record in items_of(item):
            if isinstance(record, NewsMention):
                self.link(record)
        return item

    def link(self, mention: NewsMention) -> None:
        if self.places is None:
            self.places = load_places(crawl_context(self.crawler).store.db)
        place = mention.authority
        mention.lad_code = self.places["lads"].get(norm_authority(place)) if place else None
        mention.library_id = library_id(mention.text or "", place, self.places["libraries"])
        self.stats.inc_value("news/linked/lad" if mention.lad_code else "news/unlinked/lad")
        if mention.library_id:
            self.stats.inc_value("news/linked/library")
