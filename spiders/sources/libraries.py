"""Public libraries in England: the LibrariesHacked combined CSV, the DCMS/ACE basic dataset, the 2016 Taskforce list.

The three layouts are told apart by their header. One scope: the whole source. A closed year (or the 2016
list's XL/XLR/XLT code) is the source saying the library closed. The 2016 list names its authority by a number
only: spiders/data/library_authorities_2016.csv (derived, see spiders/library_authorities.py) names it. A row's
ref is the stored library it is (spiders/library_match.py: UPRN, else postcode and name, else authority and
name), so a library keeps one record across layouts and years.
"""
from __future__ import annotations

from collections import Counter

from db.items import Library
from spiders.library_layouts import keys_of, rows_of
from spiders.library_match import LibraryKey, known_libraries, match_refs, norm_postcode
from spiders.pipelines.context import crawl_context
from spiders.tabular import FileSpider


class LibrariesSpider(FileSpider):
    name = "libraries"
    default_start_url = ("https://raw.githubusercontent.com/LibrariesHacked/librarydata-db/main/data/schemas/"
                         "libraries.csv")
    item_class = Library
    label = "Public libraries"
    noun = "library"
    licence = "Open Government Licence v3.0 (DCMS / Arts Council England, via LibrariesHacked)"
    licence_url = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
    attribution = "LibrariesHacked public libraries dataset; DCMS / Arts Council England basic dataset"
    homepage = "https://www.librarieshacked.org/"
    credit = "LibrariesHacked / DCMS / Arts Council England, OGL"
    # Health is judged over the whole list: the lists are years apart and name libraries differently, so an
    # overlap with known libraries would measure name matching, not the list.
    closure_rule = "absence"
    dated_by_first_missing = True   # lists years apart: a library closed when the first list without it appeared
    subscription_kinds = {"library": ()}

    def items_from(self, text, response):
        layout, rows = rows_of(text)
        stats = self.crawler.stats
        stats.set_value("libraries/layout", layout)
        if layout == "taskforce_2016":   # an authority_id the derived lookup lacks leaves the row without one
            stats.set_value("libraries/authority_unknown", sum(not f["authority"] for f, _ in rows))
        counts: Counter = Counter()
        known = known_libraries(crawl_context(self.crawler).store.db)
        refs = match_refs(keys_of(rows), known, counts)
        for key, n in counts.items():
            stats.inc_value(key, n)
        stored = {k.ref: k for k in known}
        for ref, (f, raw) in zip(refs, rows):
            self.keep_coordinates(f, stored.get(ref))
            uprn = (f["uprn"] or "").strip()
            yield self.stamp(Library(
                source=self.name, ref=ref, name=f["name"] or "", authority=f["authority"], address=f["address"],
                postcode=f["postcode"], uprn=uprn if uprn.isdigit() else None, latitude=f["latitude"],
                longitude=f["longitude"], statutory=f["statutory"], library_type=f["library_type"],
                year_opened=f["year_opened"], year_closed=f["year_closed"],
                status="closed" if f["closed"] else "open", closed_at=f["year_closed"] if f["closed"] else None,
                source_url=response.url, raw=raw))


    def keep_coordinates(self, f: dict, stored: LibraryKey | None) -> None:
        """A layout without coordinates keeps the stored library's, when it is at the same postcode."""
        if f["latitude"] or not stored or stored.latitude is None:
            return
        if norm_postcode(stored.postcode) and norm_postcode(stored.postcode) == norm_postcode(f["postcode"]):
            f["latitude"], f["longitude"] = stored.latitude, stored.longitude
            self.crawler.stats.inc_value("libraries/coordinates_kept_from_stored")
