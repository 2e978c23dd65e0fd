"""Atom 1.0 feeds of events (RFC 4287), written by feedgen: one per ward and one for all left-behind wards."""
from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from monitor.delivery.text import DETAIL_LIMIT, clean_text

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def moment(value: str | None) -> datetime | None:
    """Return an event time with a zone (a bare date or naive time is taken as UTC), or None when unreadable."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def atom(feed_id: str, title: str, self_url: str, page_url: str, events: list[dict], base_url: str,
         as_of: str | None = None) -> bytes:
    """Return the feed document, newest event first; each entry has id, title, updated and a link to its row.

    The feed is as new as its newest event; a feed with none is as new as the data it was drawn from (`as_of`).
    Names from sources lose bidi and control characters (XML has no place for most), as in mail."""
    def text(value: str) -> str:
        return clean_text(value, DETAIL_LIMIT)

    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(text(title))
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.author(name="Left-behind neighbourhoods monitor")
    times = [moment(e["at"]) or EPOCH for e in events]
    feed.updated(max(times) if times else moment(as_of) or EPOCH)
    for e, when in zip(events, times):
        entry = feed.add_entry(order="append")
        entry.id(f"{feed_id.split(':feed')[0]}:event:{e['id']}")
        entry.title(text(f"{e['label']}: {e['name'] or e['record_id']} ({e['ward_name']})"))
        entry.updated(when)
        entry.link(href=base_url + e["href"])
        entry.summary(text(f"{e['label']} ({e['source']}) in {e['ward_name']} {e['ward_code']} on {e['at']}"))
    return feed.atom_str(pretty=False)
