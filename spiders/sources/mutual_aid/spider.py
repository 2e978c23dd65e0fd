"""COVID-19 mutual aid groups: the covidmutualaid.org sheet (CSV) and the mutualaid.wiki API (JSON), told apart by content."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from spiders.sources.mutual_aid import indicators, records
from spiders.sources.mutual_aid.items import Group
from spiders.tabular import FileSpider, csv_records, json_records, looks_like_json

SHEET_LINK = "facebook group/website (link/url) please only provide one link"
SHEET_HEADER = {"location", "group name"}
WIKI_CSV_HEADER = {"name", "link", "location_name"}


def normalise_link(url: str | None) -> str | None:
    """Reduce a group link to host and path: m./www. dropped, query and fragment dropped, lower-cased."""
    if not url or not re.match(r"^\s*(https?://|www\.|m\.|facebook\.com)", url.strip(), re.I):
        return None
    url = url.strip()
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = re.sub(r"^(www\.|m\.|mobile\.|web\.)", "", parts.netloc.lower())
    path = parts.path.rstrip("/").lower()
    if path.endswith("profile.php"):   # the profile's id is in the query
        found = re.search(r"(?:^|&)id=(\d+)", parts.query)
        path = f"{path}?id={found.group(1)}" if found else ""
    if host.endswith("facebook.com") and path in ("", "/search/top", "/groups", "/profile.php"):
        return None                     # a link to Facebook itself names no group
    return f"{host}{path}" if host else None


def _key(text: str | None) -> str:
    return re.sub(r"\W+", " ", (text or "").lower()).strip()


def group_ref(source_id: str | None, link: str | None, name: str, place: str | None) -> str:
    """Identity across snapshots: the normalised link and place (shared by the sheet, the wiki and its exports;
    one group listed for several places is one listing per place), else the wiki's own id, else name and place."""
    if normalise_link(link):
        return f"link:{normalise_link(link)}@{_key(place)}"
    if source_id and not source_id.isdigit():   # the sheet's ids are row numbers, not identities
        return "id:" + source_id
    return f"name:{_key(name)}@{_key(place)}"


def is_header_echo(name: str, place: str) -> bool:
    """The sheet's title row scraped as if it were a group (geocoded to the USA)."""
    return (name or "").strip().lower() == "group name" and (place or "").strip().lower() == "location"


class MutualAidSpider(FileSpider):
    name = "mutual_aid"
    default_start_url = "https://mutualaid.wiki/api/group/get"
    item_class = Group
    schema = records.schema
    rank = 10
    ward_section = {"heading": "Community and mutual aid groups", "rank": 30}
    ward_profile = ("'group'", "name", "first_seen_at", "coalesce(location_name, postcode)")
    digest_section = {"key": "groups", "title": "New mutual aid groups", "intro": "Groups first listed this week.",
                      "headline": ("new mutual aid group", "new mutual aid groups")}
    indicators = indicators.INDICATORS
    place_kind = "group"
    label = "Mutual aid groups"
    noun = "mutual aid group"
    licence = "CC BY-NC-SA 4.0 (mutualaid.wiki / covidmutualaid.org)"
    licence_url = "https://creativecommons.org/licenses/by-nc-sa/4.0/"
    attribution = "Covid-19 Mutual Aid UK and mutualaid.wiki volunteers"
    homepage = "https://mutualaid.wiki/"
    credit = "mutualaid.wiki / covidmutualaid.org data, CC BY-NC-SA 4.0"
    subscription_kinds = {"group": ()}
    schedule = "30 4 * * 0"   # weekly
    # mutualaid.wiki stopped being kept in 2020-21: its last listing is the archive's (docs/indicators.md).
    archived = {"archive_url": "https://github.com/Covid-Mutual-Aid/mutual-aid-wiki", "last_listing": "2020-06-28"}

    def items_from(self, text, response):
        if looks_like_json(text):
            rows = (self.from_wiki_json(r) for r in json_records(text))
        else:
            rows = self.csv_rows(text)
        for fields, raw in rows:
            if is_header_echo(fields["name"], fields["location_name"]):
                self.crawler.stats.inc_value("mutual_aid/header_row_skipped")
                continue
            yield self.item(fields, raw, response.url)

    def csv_rows(self, text: str):
        try:
            _, records = csv_records(text, WIKI_CSV_HEADER)
            return (self.from_wiki_csv(r) for r in records)
        except ValueError:
            _, records = csv_records(text, SHEET_HEADER)
            return (self.from_sheet(r) for r in records)

    def item(self, f: dict, raw: dict, url: str) -> Group:
        return self.stamp(Group(
            source=self.name, ref=group_ref(f.get("source_id"), f["link"], f["name"], f["location_name"]),
            name=f["name"], source_id=f.get("source_id"), link=(f["link"] or "").strip() or None,
            location_name=f["location_name"], place=f["location_name"] if f.get("lat") in (None, "") else None,
            latitude=f.get("lat"), longitude=f.get("lng"), updated_at=f.get("updated_at"), source_url=url, raw=raw))

    @staticmethod
    def from_wiki_json(r: dict):
        coord = r.get("location_coord") or {}
        links = [x.get("url") for x in r.get("links") or [] if isinstance(x, dict)]
        return {"source_id": str(r.get("id") or ""), "name": r.get("name") or "",
                "link": r.get("link_facebook") or (links[0] if links else None),
                "location_name": r.get("location_name") or "", "lat": coord.get("lat"), "lng": coord.get("lng"),
                "updated_at": r.get("updated_at")}, r

    @staticmethod
    def from_wiki_csv(r: dict):
        return {"name": r.get("name", ""), "link": r.get("link"), "location_name": r.get("location_name", ""),
                "lat": r.get("lat"), "lng": r.get("lng")}, r

    @staticmethod
    def from_sheet(r: dict):
        return {"name": r.get("group name", ""), "link": r.get(SHEET_LINK), "location_name": r.get("location", ""),
                "lat": None, "lng": None}, r
