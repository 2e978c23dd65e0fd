"""Convert the real Open Pubs extracts into FSA open-data XML files and an /Authorities listing for the replay.

Run `python -m spiders.sources.fhrs_pubs.replay_build` to rebuild data/fhrs/ from data/fhrs/open_pubs/. Only the format
changes: every pub row becomes an <EstablishmentDetail> of business type 7843 with its FHRS id, name, address,
postcode and coordinates (the source's "no location" sentinels become <Geocode />). Wandsworth is served twice:
"before" with every row of the hand-checked list, "after" without the rows marked CLOSED.
"""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from spiders.tabular import decode

HERE = Path(__file__).parent / "data"
SOURCES = HERE / "open_pubs"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
LIVE_FILES = "http://ratings.food.gov.uk/OpenDataFiles"
BEFORE, AFTER = "2024-01-01", "2024-02-01"
NO_LOCATION = ("622675", "-5527598")   # Open Pubs' own sentinel easting/northing for "no location"

# name, file stem, region, LocalAuthorityId, LocalAuthorityIdCode (ids assigned for the replay, see README).
AUTHORITIES = [
    ("County Durham", "open_pubs_county_durham", "North East", 9001, "901"),
    ("Halton", "open_pubs_halton", "North West", 9002, "902"),
    ("Hartlepool", "open_pubs_hartlepool", "North East", 9003, "903"),
    ("Manchester", "open_pubs_manchester", "North West", 9004, "904"),
    ("Wandsworth", "open_pubs_wandsworth_checked", "London", 9005, "905"),
]


def read_rows(path: Path) -> list[list[str]]:
    """Return the data rows (header dropped) of an Open Pubs extract; both layouts start with the same 8 columns."""
    rows = list(csv.reader(io.StringIO(decode(path.read_bytes()))))
    return [r for r in rows[1:] if r and r[0].strip()]


def is_closed(row: list[str]) -> bool:
    """The hand-checked list's CLOSED column (index 10): 'Yes'/'yes', sometimes with a trailing space."""
    return len(row) > 10 and row[10].strip().lower() == "yes"


def establishment(row: list[str], name: str, code: str) -> ET.Element:
    fas_id, pub_name, address, postcode, easting, northing, lat, lng = (c.strip() for c in row[:8])
    e = ET.Element("EstablishmentDetail")
    for tag, value in (("FHRSID", fas_id), ("BusinessName", pub_name), ("BusinessType", "Pub/bar/nightclub"),
                       ("BusinessTypeID", "7843")):
        ET.SubElement(e, tag).text = value
    for i, line in enumerate([p.strip() for p in address.split(",") if p.strip()][:4], 1):
        ET.SubElement(e, f"AddressLine{i}").text = line
    if postcode and postcode != r"\N":
        ET.SubElement(e, "PostCode").text = postcode
    ET.SubElement(e, "RatingDate", {f"{{{XSI}}}nil": "true"})   # Open Pubs carries no rating
    ET.SubElement(e, "LocalAuthorityCode").text = code
    ET.SubElement(e, "LocalAuthorityName").text = name
    ET.SubElement(e, "Scores")
    ET.SubElement(e, "SchemeType").text = "FHRS"
    ET.SubElement(e, "NewRatingPending").text = "False"
    geocode = ET.SubElement(e, "Geocode")
    if (easting, northing) != NO_LOCATION and lat not in ("", r"\N") and lng not in ("", r"\N"):
        ET.SubElement(geocode, "Longitude").text = lng
        ET.SubElement(geocode, "Latitude").text = lat
    return e


def open_data_file(rows: list[list[str]], name: str, code: str, extract_date: str) -> bytes:
    """Return the XML of one authority's open-data file."""
    ET.register_namespace("xsi", XSI)
    root = ET.Element("FHRSEstablishment")
    header = ET.SubElement(root, "Header")
    for tag, value in (("ExtractDate", extract_date), ("ItemCount", str(len(rows))), ("ReturnCode", "Success")):
        ET.SubElement(header, tag).text = value
    collection = ET.SubElement(root, "EstablishmentCollection")
    collection.extend(establishment(r, name, code) for r in rows)
    ET.indent(root)
    xml = ET.tostring(root, encoding="unicode")
    if "xmlns:xsi" not in xml.split(">", 1)[0]:
        xml = xml.replace("<FHRSEstablishment>", f'<FHRSEstablishment xmlns:xsi="{XSI}">', 1)
    return ('<?xml version="1.0"?>\n' + xml + "\n").encode("utf-8")


def authority_row(name: str, region: str, la_id: int, code: str, count: int) -> dict:
    return {"LocalAuthorityId": la_id, "LocalAuthorityIdCode": code, "Name": name,
            "FriendlyName": name.lower().replace(" ", "-"), "Url": None, "SchemeUrl": "", "Email": None,
            "RegionName": region, "FileName": f"{LIVE_FILES}/FHRS{code}en-GB.xml", "FileNameWelsh": None,
            "EstablishmentCount": count, "CreationDate": f"{BEFORE}T00:00:00", "LastPublishedDate":
            f"{BEFORE}T00:00:00", "SchemeType": 1, "links": [{"rel": "self", "href": f"/Authorities/{la_id}"}]}


# A real Scottish authority (values from the API docs' example), listed so the English-only filter is exercised.
ABERDEEN = {**authority_row("Aberdeen City", "Scotland", 197, "760", 1698), "SchemeType": 2}


def build() -> dict[str, int]:
    """Write every file of data/fhrs/; return the pubs per file."""
    counts, listing = {}, []
    for name, stem, region, la_id, code in AUTHORITIES:
        rows = read_rows(SOURCES / f"{stem}.csv")
        if name == "Wandsworth":   # the hand-checked list also has one pub in Merton, at its border
            rows = [r for r in rows if r[8].strip() == "Wandsworth"]
            after = [r for r in rows if not is_closed(r)]
            (HERE / f"FHRS{code}en-GB_{AFTER}.xml").write_bytes(open_data_file(after, name, code, AFTER))
            counts[f"FHRS{code}en-GB_{AFTER}.xml"] = len(after)
        (HERE / f"FHRS{code}en-GB_{BEFORE}.xml").write_bytes(open_data_file(rows, name, code, BEFORE))
        counts[f"FHRS{code}en-GB_{BEFORE}.xml"] = len(rows)
        listing.append(authority_row(name, region, la_id, code, len(rows)))
    listing.append(ABERDEEN)
    payload = {"authorities": listing, "meta": {"dataSource": None, "extractDate": f"{BEFORE}T00:00:00",
                                                 "itemCount": len(listing), "returncode": "OK", "totalCount":
                                                 len(listing), "totalPages": 1, "pageSize": len(listing),
                                                 "pageNumber": 1}, "links": []}
    (HERE / "authorities.json").write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return counts


if __name__ == "__main__":
    for file, n in build().items():
        print(f"{file}: {n} pubs")
