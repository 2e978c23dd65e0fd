"""Parse the FSA's food hygiene open-data files (XML) and API records (JSON) into plain establishment dicts.

Defensive, because the real files are not always well-formed: an unescaped `&` is escaped before parsing
(counted), a missing or empty `<Geocode />` gives no coordinates, `<RatingDate xsi:nil="true" />` gives no date.
A file that still cannot be parsed (truncated, say) raises ValueError: the caller marks its scope unhealthy.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

PUB_BUSINESS_TYPE = 7843          # "Pub/bar/nightclub"
_BARE_AMPERSAND = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")
ADDRESS_LINES = ("AddressLine1", "AddressLine2", "AddressLine3", "AddressLine4")


def escape_bare_ampersands(body: bytes) -> tuple[bytes, int]:
    """Return the body with every `&` that starts no entity escaped, and how many were fixed."""
    return _BARE_AMPERSAND.subn(b"&amp;", body)


def _text(element, tag: str) -> str | None:
    child = element.find(tag)
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


def parse_xml(body: bytes) -> tuple[list[dict], dict]:
    """Return (establishments, header) of one open-data file; ValueError when it cannot be parsed."""
    fixed_body, fixes = escape_bare_ampersands(body)
    try:
        root = ET.fromstring(fixed_body)
    except ET.ParseError as e:
        raise ValueError(f"XML does not parse: {e}") from None
    header = {child.tag: (child.text or "").strip() for child in root.find("Header") or []}
    header["ampersands_fixed"] = fixes
    if header.get("ReturnCode") and header["ReturnCode"] != "Success":
        raise ValueError(f"file says ReturnCode {header['ReturnCode']}")
    collection = root.find("EstablishmentCollection")
    if collection is None:
        raise ValueError("no EstablishmentCollection")
    return [establishment_from_xml(e) for e in collection.findall("EstablishmentDetail")], header


_DETAIL_OPEN, _DETAIL_CLOSE = b"<EstablishmentDetail>", b"</EstablishmentDetail>"
_PUB_MARK = str(PUB_BUSINESS_TYPE).encode()


_AUTHORITY_CODE = re.compile(rb"<LocalAuthorityCode>\s*([^<]*?)\s*</LocalAuthorityCode>")


def parse_pubs_xml(body: bytes) -> tuple[list[dict], dict, int]:
    """Parse the pubs of one open-data file, and count every establishment's authority (header["authority_codes"]).

    The authority codes are read from the bytes of every establishment, pubs or not, so a file holding another
    authority's register is still recognised (spiders/sources/fhrs_pubs/spider.py).
    """
    pubs, header, skipped = _parse_pubs_xml(body)
    header["authority_codes"] = Counter(c.decode("utf-8", "replace") for c in _AUTHORITY_CODE.findall(body))
    return pubs, header, skipped


def _parse_pubs_xml(body: bytes) -> tuple[list[dict], dict, int]:
    """Return (pubs, header, establishments skipped) of one open-data file; ValueError when it cannot be parsed.

    Nine in ten establishments are not pubs, and building their elements was most of the parse: an
    <EstablishmentDetail> whose bytes do not even contain "7843" is dropped before XML parsing. Whatever
    contains it is parsed and checked properly (is_pub), so a false hit costs time, never a wrong pub. The head
    and the tail of the file are kept, so a truncated file still fails to parse. Ampersands are fixed (and
    counted) in the kept parts only.
    """
    first, last = body.find(_DETAIL_OPEN), body.rfind(_DETAIL_CLOSE)
    if first < 0 or last < first:
        establishments, header = parse_xml(body)
        pubs = [e for e in establishments if is_pub(e)]
        return pubs, header, len(establishments) - len(pubs)
    parts, dropped, pos = [body[:first]], 0, first
    while pos >= 0 and pos < last:
        end = body.find(_DETAIL_CLOSE, pos)
        if end < 0 or body.find(_DETAIL_OPEN, pos + 1, end) >= 0:   # not the plain shape: parse it all
            establishments, header = parse_xml(body)
            pubs = [e for e in establishments if is_pub(e)]
            return pubs, header, len(establishments) - len(pubs)
        end += len(_DETAIL_CLOSE)
        if _PUB_MARK in body[pos:end]:
            parts.append(body[pos:end])
        else:
            dropped += 1
        pos = body.find(_DETAIL_OPEN, end)
    parts.append(body[last + len(_DETAIL_CLOSE):])
    establishments, header = parse_xml(b"".join(parts))
    pubs = [e for e in establishments if is_pub(e)]
    return pubs, header, dropped + len(establishments) - len(pubs)


def establishment_from_xml(e) -> dict:
    """Return one <EstablishmentDetail> as a dict of the fields a pub keeps."""
    geocode = e.find("Geocode")
    lat = lng = None
    if geocode is not None:
        lat, lng = _text(geocode, "Latitude"), _text(geocode, "Longitude")
    return {
        "fhrsid": _text(e, "FHRSID"), "name": _text(e, "BusinessName"),
        "business_type": _text(e, "BusinessType"), "business_type_id": _text(e, "BusinessTypeID"),
        "address": ", ".join(filter(None, (_text(e, tag) for tag in ADDRESS_LINES))) or None,
        "postcode": _text(e, "PostCode"), "latitude": lat, "longitude": lng,
        "rating_date": _text(e, "RatingDate"),   # None for xsi:nil
        "authority": _text(e, "LocalAuthorityName"), "authority_code": _text(e, "LocalAuthorityCode"),
    }


def establishment_from_json(e: dict) -> dict:
    """Return one API v2 establishment as the same dict as establishment_from_xml."""
    geocode = e.get("geocode") or {}
    lines = [str(e.get(tag) or "").strip() for tag in ADDRESS_LINES]
    return {
        "fhrsid": str(e.get("FHRSID") or "") or None, "name": e.get("BusinessName"),
        "business_type": e.get("BusinessType"), "business_type_id": str(e.get("BusinessTypeID") or ""),
        "address": ", ".join(filter(None, lines)) or None, "postcode": e.get("PostCode") or None,
        "latitude": geocode.get("latitude"), "longitude": geocode.get("longitude"),
        "rating_date": e.get("RatingDate"),
        "authority": e.get("LocalAuthorityName"), "authority_code": e.get("LocalAuthorityCode"),
    }


def is_pub(establishment: dict) -> bool:
    return establishment.get("business_type_id") == str(PUB_BUSINESS_TYPE)


NON_ENGLISH_REGIONS = {"scotland", "wales", "northern ireland"}


def authorities_in_scope(authorities: list[dict], wanted: list[str]) -> tuple[list[dict], list[str]]:
    """Return (authorities to crawl, wanted names/codes not listed); [] wanted means every English authority.

    Aggregate rows (a region or nation, with no FileName) are never crawled.
    """
    rows = [a for a in authorities if a.get("FileName")]
    if not wanted:
        return [a for a in rows if str(a.get("RegionName") or "").strip().lower() not in NON_ENGLISH_REGIONS], []
    keys = {w.strip().lower() for w in wanted}
    chosen = [a for a in rows if str(a.get("Name", "")).lower() in keys
              or str(a.get("LocalAuthorityIdCode", "")).lower() in keys]
    found = {str(a.get("Name", "")).lower() for a in chosen} | {str(a.get("LocalAuthorityIdCode", "")).lower()
                                                                for a in chosen}
    return chosen, [w for w in wanted if w.strip().lower() not in found]
