"""Pubs from the FSA food hygiene register (business type 7843 "Pub/bar/nightclub"), one scope per authority.

Start URL = the API base. It reads /Authorities (x-api-version 2), keeps the authorities in scope (setting
fhrs_authorities), then per authority fetches its open-data XML file (route 'xml', the FSA's bulk route) or
pages /Establishments?businessTypeId=7843&localAuthorityId=… (route 'json'; setting fhrs_route).
"""
from __future__ import annotations

import json
from urllib.parse import urlencode

import scrapy

from spiders.base import SourceSpider
from spiders.fhrs_xml import PUB_BUSINESS_TYPE, authorities_in_scope, establishment_from_json, is_pub, parse_xml
from spiders.items import Pub

API_HEADERS = {"x-api-version": "2", "Accept": "application/json"}
PAGE_SIZE = 500   # the Scrapy setting FHRS_PAGE_SIZE overrides it (tests page through small pages)


class FhrsPubsSpider(SourceSpider):
    name = "fhrs_pubs"
    default_start_url = "https://api.ratings.food.gov.uk"
    licence = "Open Government Licence v3.0 (Food Standards Agency)"
    attribution = "Food Standards Agency, Food Hygiene Rating Scheme open data"
    scope_is_source = False

    def option(self, name: str, default):
        return (self.settings.get("LBM_SETTINGS") or {}).get(name, default)

    def first_requests(self):
        yield scrapy.Request(self.start_url.rstrip("/") + "/Authorities", headers=API_HEADERS,
                             callback=self.parse, errback=self.on_error, meta={"scope": self.name},
                             dont_filter=True)

    def parse(self, response):
        try:
            authorities = json.loads(response.text)["authorities"]
        except (ValueError, KeyError, TypeError) as e:
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
                yield scrapy.Request(authority["FileName"], callback=self.parse_file, errback=self.on_error,
                                     meta=meta)

    def parse_file(self, response):
        scope = response.meta["scope"]
        try:
            establishments, header = parse_xml(response.body)
        except ValueError as e:
            self.scope_error(scope, f"cannot parse {response.url}: {e}")
            return
        if header["ampersands_fixed"]:
            self.crawler.stats.inc_value("fhrs/xml/ampersands_fixed", header["ampersands_fixed"])
        for e in establishments:
            if not self.of_authority(e, response.meta["authority"], scope):
                continue
            if is_pub(e):
                yield self.pub(e, scope, response.url)
            else:
                self.crawler.stats.inc_value("fhrs/skipped_other_business_type")

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
        except (ValueError, KeyError, TypeError) as e:
            self.scope_error(scope, f"cannot parse {response.url}: {e}")
            return
        for e in map(establishment_from_json, establishments):
            if is_pub(e) and self.of_authority(e, response.meta["authority"], scope):
                yield self.pub(e, scope, response.url)
        page = response.meta["page"]
        if page < int(meta.get("totalPages") or 0):
            yield self.page_request(response.meta["authority"], page + 1, response.meta)

    def of_authority(self, e: dict, authority: dict, scope: str) -> bool:
        """Say whether a record belongs to the authority whose file it came in; count it against the scope if not.

        A file of another authority (a wrong FileName) must not pass for this one's: that would close all its pubs.
        """
        expected = str(authority.get("LocalAuthorityIdCode") or "")
        code = str(e.get("authority_code") or "")
        if not expected or not code or code == expected:
            return True
        self.scope_error(scope, f"a record of authority {code} in the file of {scope} ({expected})")
        return False

    def pub(self, e: dict, scope: str, url: str) -> Pub:
        return self.stamp(Pub(
            source=self.name, ref=e["fhrsid"] or "", name=e["name"] or "", address=e["address"],
            postcode=e["postcode"], latitude=e["latitude"], longitude=e["longitude"], authority=e["authority"],
            authority_code=e["authority_code"], business_type=e["business_type"], rating_date=e["rating_date"],
            source_url=url, raw=e), scope)


SPIDER = FhrsPubsSpider
