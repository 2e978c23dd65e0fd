"""Atom 1.0 feeds of events (RFC 4287): one per ward and one for all left-behind wards, newest first."""
from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from monitor.delivery.text import DETAIL_LIMIT, clean_text

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)


def _rfc3339(value: str | None) -> str:
    """Return an event time as RFC 3339 with a zone (a bare date or naive time is taken as UTC)."""
    if not value:
        return "1970-01-01T00:00:00Z"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "1970-01-01T00:00:00Z"
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom(feed_id: str, title: str, self_url: str, page_url: str, events: list[dict], base_url: str) -> bytes:
    """Return the feed document; each entry has id, title, updated and a link to the event's row."""
    def el(parent, tag, text=None, **attrs):
        node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:   # names from sources: no bidi or control characters (XML has no place for most)
            node.text = clean_text(text, DETAIL_LIMIT)
        return node

    feed = ET.Element(f"{{{ATOM}}}feed")
    el(feed, "id", feed_id)
    el(feed, "title", title)
    el(feed, "updated", _rfc3339(events[0]["at"]) if events else "1970-01-01T00:00:00Z")
    el(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    el(feed, "link", rel="alternate", href=page_url, type="text/html")
    author = el(feed, "author")
    el(author, "name", "Left-behind neighbourhoods monitor")
    for e in events:
        entry = el(feed, "entry")
        el(entry, "id", f"{feed_id.split(':feed')[0]}:event:{e['id']}")
        el(entry, "title", f"{e['label']}: {e['name'] or e['record_id']} ({e['ward_name']})")
        el(entry, "updated", _rfc3339(e["at"]))
        el(entry, "link", href=base_url + e["href"])
        el(entry, "summary", f"{e['label']} ({e['source']}) in {e['ward_name']} {e['ward_code']} on {e['at']}")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
