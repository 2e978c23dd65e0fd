"""Library identity as a pipeline: each library row of a file takes the ref of the stored library it is.

The rule is spiders/sources/libraries/library_match.py's; it needs the whole file at once (each stored library is claimed by at
most one row), so the libraries spider hands its rows down as one Batch. A row arrives with the source's own id
as its ref, if it has one (used for a library seen for the first time). A row without coordinates keeps the
stored library's, when it is at the same postcode.
"""
from __future__ import annotations

from collections import Counter

from spiders.items import Batch, items_of
from spiders.pipelines.context import StorePipeline
from spiders.sources.libraries.items import Library
from spiders.sources.libraries.library_match import (
    LibraryKey,
    known_libraries,
    match_refs,
    norm_postcode,
    replaced_rows,
)


class LibraryIdentityPipeline(StorePipeline):
    """Scrapy pipeline 50: give each library row of a file the ref of the stored library it is."""

    def process_item(self, item, spider=None):
        rows = [r for r in items_of(item) if isinstance(r, Library)]
        if not rows:
            return item
        known = known_libraries(self.store.db, rows[0].source)
        counts: Counter = Counter()
        keys = [LibraryKey(name=r.name or "", authority=r.authority, postcode=r.postcode, uprn=r.uprn,
                           closed=r.status == "closed", source_id=r.ref or None) for r in rows]
        moved = replaced_rows(keys)
        if moved and isinstance(item, Batch):   # a move, not a closure: the old site's row is left out
            dropped = {id(rows[i]) for i in moved}
            item.items = [r for r in item.items if id(r) not in dropped]
            rows = [r for i, r in enumerate(rows) if i not in moved]
            keys = [k for i, k in enumerate(keys) if i not in moved]
            self.stats.inc_value("resolved/replacement_is_a_move", len(moved))
        refs = match_refs(keys, known, counts)
        for key, n in counts.items():
            self.stats.inc_value(key, n)
        stored = {k.ref: k for k in known}
        for row, ref in zip(rows, refs):
            row.ref = ref
            self.keep_coordinates(row, stored.get(ref))
        return item

    def keep_coordinates(self, row: Library, stored: LibraryKey | None) -> None:
        if row.latitude or not stored or stored.latitude is None:
            return
        if norm_postcode(stored.postcode) and norm_postcode(stored.postcode) == norm_postcode(row.postcode):
            row.latitude, row.longitude = stored.latitude, stored.longitude
            self.stats.inc_value("libraries/coordinates_kept_from_stored")
