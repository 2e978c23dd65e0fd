"""Split a Public Libraries News post body into per-place items and read the signal each one reports.

A post has sections introduced by `<p><strong>heading</strong></p>`, each followed by `<ul><li>` items; an
item starts with the place (an authority, usually) then an en dash. Signals, checked in this order:
reopening (reopen/re-open), threatened (at risk, proposes/plans/could … close, consultation, under threat),
closure (closed, closes, closure, to close). Items reporting none are not kept.
"""
from __future__ import annotations

import re

from bs4 import BeautifulSoup

SIGNALS = (
    ("reopening", re.compile(r"\bre-?open(s|ed|ing)?\b", re.I)),
    ("threatened", re.compile(r"\b(at risk|under threat|threat(ened)?|propos\w* to close|plans? to close|could "
                              r"close|consult\w*|under review)\b", re.I)),
    ("closure", re.compile(r"\b(closed|closes|closure|closures|to close|closing)\b", re.I)),
)
_DASH = re.compile(r"\s+[\u2013\u2014-]\s+")


def signal_of(text: str) -> str | None:
    for signal, pattern in SIGNALS:
        if pattern.search(text):
            return signal
    return None


def post_items(html: str) -> list[dict]:
    """Return [{section, place, text}] for every list item of a post body, in order."""
    soup = BeautifulSoup(html or "", "html.parser")
    out, section = [], ""
    for node in soup.find_all(["p", "ul"]):
        if node.name == "p":
            strong = node.find("strong")
            if strong and strong.get_text(strip=True) == node.get_text(strip=True):
                section = strong.get_text(" ", strip=True)
            continue
        for li in node.find_all("li", recursive=False):
            text = li.get_text(" ", strip=True)
            parts = _DASH.split(text, maxsplit=1)
            national = section.lower().startswith(("national", "international"))   # no place to name
            place, body = (parts[0], parts[1]) if len(parts) == 2 and len(parts[0]) <= 60 and not national \
                else (None, text)
            out.append({"section": section, "place": place, "text": body})
    return out
