"""Pubs from the FSA food hygiene register (business type 7843 "Pub/bar/nightclub"), one scope per authority.

Start URL = the API base. It reads /Authorities (x-api-version 2), keeps the authorities in scope (setting
fhrs_authorities), then per authority fetches its open-data XML file (route 'xml', the FSA's bulk route) or
pages /Establishments?businessTypeId=7843&localAuthorityId=… (route 'json'; setting fhrs_route).
An authority's file is asked for conditionally, its LastPublishedDate standing for the version: when the server
answers 304, or sends the bytes of the last good crawl, it is not parsed, and its pubs count as listed again
(spiders/conditional_get.py, spiders/pipelines/file_state.py).
"""
from __future__ import annotations

import json
from collections import Counter
from urllib.parse import urlencode

import scrapy

from core.setting_values import Setting
from spiders.base import SourceSpider
from spiders.items import FileState
from spiders.sources.fhrs_pubs import indicators, records
from spiders.sources.fhrs_pubs.fhrs_xml import (
    PUB_BUSINESS_TYPE,
    authorities_in_scope,
    establishment_from_json,
    is_pub,
    parse_pubs_xml,
)
from spiders.sources.fhrs_pubs.items import Pub
from spiders.sources.fhrs_pubs.venue_kinds import NOUNS, classify_venue

API_HEADERS = {"x-api-version": "2", "Accept": "application/json"}
PAGE_SIZE = 500   # the Scrapy setting FHRS_PAGE_SIZE overrides it (tests page through small pages)


class FhrsPubsSpider(SourceSpider):
    name = "fhrs_pubs"
    default_start_url = "https://api.ratings.food.gov.uk"
    item_class = Pub
    schema = records.schema
    rank = 30
    ward_section = {"heading": "Pubs and clubs", "rank": 10}
    ward_profile = ("coalesce(venue_kind, 'pub')", "name", "coalesce(closed_at, first_seen_at)",
                    "coalesce(address, postcode)")
    venue_kind_nouns = NOUNS
    indicators = indicators.INDICATORS
    place_kind = "pub"
    venue_kind_sql = "r.venue_kind"
    label = "Pubs (FSA register)"
    noun = "pub"
    licence = "Open Government Licence v3.0 (Food Standards Agency)"
    licence_url = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
    attribution = "Food Standards Agency, Food Hygiene Rating Scheme open data"
    homepage = "https://ratings.food.gov.uk/open-data"
    credit = "Food Standards Agency food hygiene register, Open Government Licence v3"
    scope_kind = "authority"
    closure_rule = "absence"
    overlap_checked = True
    scopes_setting = "fhrs_authorities"
    # The register's venues by kind (spiders/sources/fhrs_pubs/venue_kinds.py); "pub" is pubs and bars, as the pub indicators count them.
    subscription_kinds = {"pub": ("pub", "bar"), "social_club": ("members_club",), "sports_club": ("sports_club",),
                          "nightclub": ("nightclub",), "hotel_bar": ("hotel",), "restaurant": ("restaurant",),
                          "other_venue": ("other",)}
    schedule = "0 5 * * *"   # daily: closures are judged over consecutive crawls
    options = (
        Setting("fhrs_authorities", [], "FSA authorities to crawl (names or LocalAuthorityIdCode); empty = all "
                "English."),
        Setting("fhrs_route", "xml", "FSA route: 'xml' (bulk open-data files) or 'json' (paged Establishments API).",
                choices=("xml", "json")),
    )

    def first_requests(self):
        yield scrapy.Request(self.start_url.rstrip("/") + "/Authorities", headers=API_HEADERS,
                             callback=self.parse, errback=self.on_error, meta={"scope": self.name},
                             dont_filter=True)

    def parse(self, response):
        try:
            authorities = json.loads(response.text)["authorities"]
        except (ValueError, KeyError, TypeError, RecursionError) as e:   # RecursionError: JSON nested too deep
            self.seen(self.name)
            self.scope_error(self.name, f"cannot parse {response.url}: {e}")
            return
        chosen, missing = authorities_in_scope(authorities, self.option("fhrs_authorities", []))
        for wanted in missing:
            self.seen(wanted)
            self.scope_error(wanted, "not listed in /Authorities")
        route = self.option("fhrs_route", "xml")
        for authority in chosen:
            scope = str(authority["Name"])
            self.seen(scope)
            meta = {"scope": scope, "authority": authority}
            if route == "json":
                yield self.page_request(authority, 1, meta)
            else:
                meta["conditional"] = {"version": str(authority.get("LastPublishedDate") or ""), "labels": scope}
                request = self.request(authority.get("FileName") or "", scope, callback=self.parse_file, meta=meta)
                if request is not None:
                    yield request

    def parse_file(self, response):
        scope = response.meta["scope"]
        unchanged = response.meta.get("file_unchanged")   # set by the conditional GET middleware
        if unchanged:
            self.crawler.stats.inc_value(f"fhrs/{unchanged}")
            yield self.file_state(response, unchanged)
            return
        try:
            pubs, header, skipped = parse_pubs_xml(response.body)
        except ValueError as e:
            self.scope_error(scope, f"cannot parse {response.url}: {e}")
            return
        if header["ampersands_fixed"]:
            self.crawler.stats.inc_value("fhrs/xml/ampersands_fixed", header["ampersands_fixed"])
        if self.wrong_authority(header["authority_codes"], response.meta["authority"], scope):
            return
        if skipped:   # counted once per file: a counter call per skipped row cost 2% of the crawl
            self.crawler.stats.inc_value("fhrs/skipped_other_business_type", skipped)
        for e in pubs:
            yield self.pub(e, scope, response.url)
        yield self.file_state(response, "parsed", len(pubs))

    def file_state(self, response, outcome: str, records: int = 0) -> FileState:
        headers = response.headers
        return FileState(source=self.name, scope=response.meta["scope"], url=response.url, outcome=outcome,
                         etag=(headers.get("ETag") or b"").decode("latin-1") or None,
                         last_modified=(headers.get("Last-Modified") or b"").decode("latin-1") or None,
                         version=response.meta["conditional"]["version"],
                         content_hash=response.meta.get("file_content"), records=records,
                         read_in=(response.meta.get("conditional_state") or {}).get("crawl_id"))

    def wrong_authority(self, codes: Counter, authority: dict, scope: str) -> bool:
        """A file (or page) holding another authority's establishments makes the scope unhealthy: were it read,
        every real venue of this authority would look absent, and close. `codes` counts the LocalAuthorityCode
        of every establishment, pubs or not."""
        code = str(authority.get("LocalAuthorityIdCode") or "").strip()
        others = {c for c in codes if c and c.strip() != code}
        if not code or not others:
            return False
        count = sum(codes[c] for c in others)
        self.crawler.stats.inc_value("fhrs/wrong_authority", count)
        self.scope_error(scope, f"{count} establishments of another authority (LocalAuthorityCode "
                                f"{', '.join(sorted(others))[:60]}) in the file of {scope} ({code})")
        return True

    def page_request(self, authority: dict, page: int, meta: dict):
        query = urlencode({"businessTypeId": PUB_BUSINESS_TYPE, "localAuthorityId": authority["LocalAuthorityId"],
                           "pageNumber": page, "pageSize": self.settings.getint("FHRS_PAGE_SIZE", PAGE_SIZE)})
        return scrapy.Request(f"{self.start_url.rstrip('/')}/Establishments?{query}", headers=API_HEADERS,
                              callback=self.parse_page, errback=self.on_error, meta={**meta, "page": page})

    def parse_page(self, response):
        scope = response.meta["scope"]
        try:
            data = json.loads(response.text)
            establishments, meta = data["establishments"], data.get("meta") or {}
        except (ValueError, KeyError, TypeError, RecursionError) as e:   # RecursionError: JSON nested too deep
            self.scope_error(scope, f"cannot parse {response.url}: {e}")
            return
        establishments = list(map(establishment_from_json, establishments))
        codes = Counter(str(e["authority_code"]) for e in establishments if e.get("authority_code"))
        if self.wrong_authority(codes, response.meta["authority"], scope):
            return
        for e in establishments:
            if is_pub(e):
                yield self.pub(e, scope, response.url)
        page = response.meta["page"]
        if page < int(meta.get("totalPages") or 0):
            yield self.page_request(response.meta["authority"], page + 1, response.meta)

    def pub(self, e: dict, scope: str, url: str) -> Pub:
        kind, rule = classify_venue(e["name"], e["address"])
        self.crawler.stats.inc_value(f"fhrs/venue_kind/{kind}")
        return self.stamp(Pub(
            source=self.name, ref=e["fhrsid"] or "", name=e["name"] or "", address=e["address"],
            postcode=e["postcode"], latitude=e["latitude"], longitude=e["longitude"], authority=e["authority"],
            authority_code=e["authority_code"], business_type=e["business_type"], rating_date=e["rating_date"],
            venue_kind=kind, venue_kind_rule=rule, source_url=url, raw=e), scope)
