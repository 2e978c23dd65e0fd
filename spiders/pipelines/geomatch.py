"""Geo-match: resolve a batch of items to 2017 best-fit wards with the resolver chain; count each step."""
from __future__ import annotations

from collections import Counter

from db.items import Record
from db.resolver import UNAVAILABLE, Query, Resolver


def resolve_items(items: list[Record], resolver: Resolver, stats=None, now=None) -> None:
    """Set ward_code, geo_method and geo_reason on every item, in one batch; `now` stamps cached lookups."""
    queries = [Query(ward_code=i.ward_code, lsoa_code=i.lsoa_code, lat=i.latitude, lng=i.longitude,
                     postcode=i.postcode, place=i.place) for i in items]
    counts: Counter[str] = Counter()
    before = Counter({k: n for k, n in resolver.counts.items() if k.startswith("postcode/")})
    for item, answer in zip(items, resolver.resolve_many(queries, now)):
        item.ward_code = answer.ward_code
        item.geo_method = answer.method
        item.geo_reason = answer.reason
        if answer.ward_code:
            counts[f"geo/method/{answer.method}"] += 1
        else:
            counts["geo/unresolved"] += 1
            counts[f"geo/unresolved/{answer.reason}"] += 1
            if UNAVAILABLE in (answer.reason or "") and getattr(item, "input_hash", None):
                item.input_hash = None   # never skipped as unchanged: the lookup is tried again next crawl
    # Which answered a postcode (the local directory or postcodes.io), and how it was placed.
    after = Counter({k: n for k, n in resolver.counts.items() if k.startswith("postcode/")})
    counts.update({f"geo/{k}": n for k, n in (after - before).items()})
    if stats is not None:   # once per batch: Scrapy's stats collector costs a few microseconds a call
        for key, n in counts.items():
            stats.inc_value(key, n)
