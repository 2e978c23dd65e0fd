"""Map one 360Giving grant (JSON shape; CSV/XLSX rows are unflattened to it first) to Grant fields.

Where a grant is placed, first input found wins, and that input alone goes to the resolver:
  1. beneficiary_location   a beneficiaryLocation ward (geoCodeType WD, or an E05/W05/S13 code) or LSOA code:
                            where the money goes, as the funder says, so it comes first;
  2. recipient_location     the recipient organisation's own location ward or LSOA code;
  3. grantnav_additional    GrantNav's enrichment (additional_data, or the same keys at the top level as in
                            GrantNav exports): recipientWardNameGeoCode, else a ward or LSOA in locationLookup,
                            derived by GrantNav from the beneficiary location or the recipient's postcode;
  4. recipient_postcode     the recipient's postcode: where the office is, which for a national charity funded
                            to work in a left-behind ward is the wrong place, hence last;
  5. unresolved             nothing to go on (e.g. grants to anonymised individuals with only a country).
We never fall back to a later input when the chosen one does not resolve: mixing "where the money goes" with
"where the office is" would make the indicator mean neither.
"""
from __future__ import annotations

import json
import re

from spiders.pipelines.normalise import parse_date

COVID_WORDS = re.compile(r"covid|coronavirus|pandemic", re.I)
COVID_FROM, COVID_TO = "2020-03-01", "2021-12-31"
WARD_TYPES = {"WD", "WARD"}
LSOA_TYPES = {"LSOA", "LSOA11", "LSOA21"}
WARD_CODE = re.compile(r"^[EWS](05|13)\d{6}$")      # E05 England, W05 Wales, S13 Scotland
LSOA_CODE = re.compile(r"^[EW]01\d{6}$")


def first(value) -> dict:
    """Return the first object of a schema array (or the object itself); {} when absent."""
    if isinstance(value, list):
        value = value[0] if value else {}
    return value if isinstance(value, dict) else {}


def _code(value) -> str:
    return str(value).strip().upper() if value not in (None, "") else ""


def code_from_locations(locations) -> tuple[str, str] | None:
    """Return ('ward_code' | 'lsoa_code', code) from the first ward or LSOA among schema location objects."""
    for loc in locations if isinstance(locations, list) else [locations]:
        if not isinstance(loc, dict):
            continue
        code, kind = _code(loc.get("geoCode")), _code(loc.get("geoCodeType"))
        if code and (kind in WARD_TYPES or WARD_CODE.match(code) and kind in ("", "WD")):
            return "ward_code", code
        if code and (kind in LSOA_TYPES or LSOA_CODE.match(code) and kind == ""):
            return "lsoa_code", code
    return None


def code_from_grantnav(grant: dict) -> tuple[str, str] | None:
    """Return a ward or LSOA code from GrantNav's additional data (in additional_data or at the top level)."""
    for data in (grant.get("additional_data") or {}, grant):
        ward = _code(data.get("recipientWardNameGeoCode") or data.get("beneficiaryWardNameGeoCode"))
        if WARD_CODE.match(ward):
            return "ward_code", ward
        lookups = [x for x in data.get("locationLookup") or [] if isinstance(x, dict)]
        lookups.sort(key=lambda x: x.get("source") != "beneficiaryLocation")   # where the money goes first
        for entry in lookups:
            ward = _code(entry.get("wardcd") or entry.get("wd17cd") or entry.get("wd23cd"))
            if ward:
                return "ward_code", ward
            lsoa = _code(entry.get("lsoa11cd"))
            if lsoa:
                return "lsoa_code", lsoa
    return None


def location_input(grant: dict, organisation: dict | None = None) -> tuple[str | None, dict]:
    """Return (geo_input, the one Record location field to set) following the documented order."""
    found = code_from_locations(grant.get("beneficiaryLocation") or [])
    if found:
        return "beneficiary_location", dict([found])
    if organisation is None:
        organisation = first(grant.get("recipientOrganization"))
    found = code_from_locations(organisation.get("location") or [])
    if found:
        return "recipient_location", dict([found])
    found = code_from_grantnav(grant)
    if found:
        return "grantnav_additional", dict([found])
    postcode = organisation.get("postalCode")
    if postcode and str(postcode).strip():
        return "recipient_postcode", {"postcode": str(postcode)}
    return None, {}


def is_covid(title, description, programme, award_date) -> int:
    """1 when the text mentions COVID-19, coronavirus or the pandemic and it was awarded 2020-03-01..2021-12-31."""
    try:   # the date first: most grants fall outside the window, and the regex over descriptions costs more
        day = parse_date(award_date)
    except ValueError:
        return 0
    if not (day and len(day) == 10 and COVID_FROM <= day <= COVID_TO):
        return 0
    return int(bool(COVID_WORDS.search(" ".join(str(x) for x in (title, description, programme) if x))))


def beneficiary_json(grant: dict) -> str | None:
    places = [{k: loc.get(k) for k in ("name", "geoCode", "geoCodeType") if loc.get(k) not in (None, "")}
              for loc in grant.get("beneficiaryLocation") or [] if isinstance(loc, dict)]
    places = [p for p in places if p]
    return json.dumps(places, ensure_ascii=False) if places else None


def grant_fields(grant: dict) -> dict:
    """Return the Grant keyword arguments (ref, name, amounts, parties, location input, covid) of one grant."""
    organisation = first(grant.get("recipientOrganization"))
    recipient = organisation or first(grant.get("recipientIndividual"))
    funder = first(grant.get("fundingOrganization"))
    programme = first(grant.get("grantProgramme")).get("title")
    title, description = grant.get("title"), grant.get("description")
    geo_input, where = location_input(grant, organisation)
    ref = grant.get("id")
    return {
        "ref": str(ref).strip() if ref not in (None, "") else "",
        "name": title or recipient.get("name") or "",
        "title": title, "description": description,
        "amount": grant.get("amountAwarded"), "currency": grant.get("currency"),
        "award_date": grant.get("awardDate"),
        "funder_id": funder.get("id"), "funder_name": funder.get("name"),
        "recipient_id": recipient.get("id"), "recipient_name": recipient.get("name"),
        "recipient_postcode": organisation.get("postalCode"),
        "programme": programme, "beneficiary_locations": beneficiary_json(grant),
        "covid": is_covid(title, description, programme, grant.get("awardDate")),
        "geo_input": geo_input, **where,
    }
