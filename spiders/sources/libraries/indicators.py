"""The libraries source's indicators: open libraries and library closures since a date."""
from __future__ import annotations

from spiders.indicators import Indicator, within

# Listed in the latest healthy crawl: the list is re-published whole, and a library it no longer lists (a row of
# an older layout that matched nothing later) must not count as open forever.
INDICATORS: tuple[Indicator, ...] = (
    Indicator("libraries_per_100k", "Open libraries", "libraries",
              "r.status = 'open'", listed_in_latest=True, noun="libraries"),
    Indicator("library_closures_per_100k", "Library closures", "libraries",
              "r.status = 'closed' AND " + within("r.closed_at", ":since", ":window_to"), window="since",
              since="library_closures_since",
              dated_by="closed_at", noun="library closures", more_is_worse=True),
)
