"""Public libraries in England: the LibrariesHacked combined CSV, the DCMS/ACE basic dataset, the 2016 Taskforce list.

The three layouts are told apart by their header. One scope: the whole source. A closed year (or the 2016
list's XL/XLR/XLT code) is the source saying the library closed. The 2016 list names its authority by a number
only: spiders/sources/libraries/reference/library_authorities_2016.csv (derived, see spiders/sources/libraries/library_authorities.py) names it. A row's
ref becomes the stored library it is in a pipeline (spiders/sources/libraries/pipelines.py, by the rule of
spiders/sources/libraries/library_match.py: UPRN, else postcode and name, else authority and name), so a library keeps one record
across layouts and years.
"""
from __future__ import annotations

from core.setting_values import Setting
from spiders.items import Batch
from spiders.sources.libraries import indicators, records
from spiders.sources.libraries.items import Library
from spiders.sources.libraries.library_layouts import rows_of
from spiders.tabular import FileSpider


def status_of(f: dict) -> str:
    """Return what the row says: 'closed', 'temporarily_closed' (announced, never counted closed) or 'open'."""
    if f.get("temporary"):
        return "temporarily_closed"
    return "closed" if f["closed"] else "open"


class LibrariesSpider(FileSpider):
    name = "libraries"
    default_start_url = ("https://raw.githubusercontent.com/LibrariesHacked/librarydata-db/main/data/schemas/"
                         "libraries.csv")
    item_class = Library
    schema = records.schema
    rank = 40
    ward_section = {"heading": "Libraries", "rank": 20}
    ward_profile = ("'library'", "name", "coalesce(closed_at, first_seen_at)", "coalesce(address, postcode)")
    indicators = indicators.INDICATORS
    place_kind = "library"
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
    schedule = "30 5 * * *"   # daily, although the lists change once a year or so
    pipelines = {"spiders.sources.libraries.pipelines.LibraryIdentityPipeline": 50}
    options = (Setting("library_closures_since", "2010-01-01", "Library closures are counted from this date.",
                       kind="date"),)

    def items_from(self, text, response):
        """Yield the file's rows as one Batch: library identity (spiders/sources/libraries/pipelines.py) matches a
        whole file against the stored libraries at once. A row's ref is the source's own id, if any, until then."""
        layout, rows = rows_of(text)
        stats = self.crawler.stats
        stats.set_value("libraries/layout", layout)
        if layout == "taskforce_2016":   # an authority_id the derived lookup lacks leaves the row without one
            stats.set_value("libraries/authority_unknown", sum(not f["authority"] for f, _ in rows))
        # What the list's words decided beyond a dated closure: counted, so source health shows them. A row that
        # says it closed in one year and opened in a later one contradicts itself: resolved as reopened.
        for key in ("closed_undated", "temporary"):
            stats.set_value(f"libraries/{key}", sum(bool(f.get(key)) for f, _ in rows))
        stats.set_value("resolved/reopened_by_own_years", sum(bool(f.get("reopened")) for f, _ in rows))
        yield Batch([self.library(f, raw, response.url) for f, raw in rows])

    def library(self, f: dict, raw: dict, url: str) -> Library:
        uprn = (f["uprn"] or "").strip()
        return self.stamp(Library(
            source=self.name, ref=f.get("source_id") or "", name=f["name"] or "", authority=f["authority"],
            address=f["address"], postcode=f["postcode"], uprn=uprn if uprn.isdigit() else None,
            latitude=f["latitude"], longitude=f["longitude"], statutory=f["statutory"],
            library_type=f["library_type"], year_opened=f["year_opened"], year_closed=f["year_closed"],
            status=status_of(f), closed_at=f["year_closed"] if f["closed"] or f.get("temporary") else None,
            source_url=url, raw=raw))
