"""Build the demo's postcode directory (ONS Postcode Directory layout) from postcode-and-place pairs in the replay data.

Run: python -m spiders.replay.postcode_directory

Every row is a pair a real source gives; nothing is looked up or made up. In order of trust:
  nspl      db/reference/raw/nspl_postcode_sample.json: real NSPL rows (lsoa11, lat, long, doterm; one terminated)
  360giving Power to Change's grants (GrantNav test file): "Postcode of impact 1" and the grant's beneficiaryLocation
            LSOA (geoCodeType LSOA), where the two name one place; a postcode given two LSOAs is left out
  library   the Libraries Taskforce list of 2016: each library's postcode and its lat/lng
  fhrs      the FSA register files the replay serves: each establishment's postcode and its Geocode
A postcode's point is the library's, else the register's; several different points of one source give their
coordinate-wise median (an establishment's geocode is its own, not its postcode's centroid). lsoa11 is filled only
where a source names the LSOA: the bundled geography is ward polygons, which cannot tell a point's LSOA. A row with
a point and no LSOA is placed by its point. Written as data/postcode_directory/demo_onspd.csv, with a `source`
column naming where each row came from (the loader ignores columns ONSPD does not have).
"""
from __future__ import annotations

import csv
import json
import statistics
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

from db.postcode_directory import LAT_RANGE, LONG_RANGE
from db.postcodes import normalise_postcode

DATA = Path(__file__).parent / "data"
RAW = Path(__file__).resolve().parents[2] / "db" / "reference" / "raw"
OUT = DATA / "postcode_directory" / "demo_onspd.csv"
LIBRARIES_2016 = DATA / "libraries" / "2016-07-01_england-librarydata_libraries_2016_with_latlng.csv"
POWER_TO_CHANGE = DATA / "threesixty_giving" / "grantnav-testdata_a002400000nO46WAAS.json"
HEADER = ("pcds", "doterm", "lsoa11", "lat", "long", "source")


def _point(lat, lng) -> tuple[float, float] | None:
    try:
        y, x = float(lat), float(lng)
    except (TypeError, ValueError):
        return None
    ok = LAT_RANGE[0] <= y <= LAT_RANGE[1] and LONG_RANGE[0] <= x <= LONG_RANGE[1]
    return (y, x) if ok else None


def nspl_rows(path: Path = RAW / "nspl_postcode_sample.json") -> dict[str, dict]:
    """Return the NSPL sample's rows by postcode, doterm in ONSPD's YYYYMM."""
    out = {}
    for r in json.loads(path.read_text(encoding="utf-8")):
        pc = normalise_postcode(r["pcds"])
        doterm = (r.get("doterm") or "")[:7].replace("-", "")
        out[pc] = {"doterm": doterm, "lsoa11": r["lsoa11"], "point": _point(r["lat"], r["long"]), "source": "nspl"}
    return out


def grant_lsoas(path: Path = POWER_TO_CHANGE, counts: Counter | None = None) -> dict[str, str]:
    """Return postcode -> LSOA from grants naming a postcode of impact and one beneficiary LSOA."""
    seen: dict[str, set[str]] = defaultdict(set)
    for grant in json.loads(path.read_text(encoding="utf-8"))["grants"]:
        pc = normalise_postcode(grant.get("Postcode of impact 1"))
        codes = [loc.get("geoCode") for loc in grant.get("beneficiaryLocation") or []
                 if isinstance(loc, dict) and str(loc.get("geoCodeType", "")).upper() == "LSOA" and loc.get("geoCode")]
        if pc and len(codes) == 1:
            seen[pc].add(codes[0].strip().upper())
    if counts is not None:
        counts["360giving_conflicting_lsoa"] = sum(len(v) > 1 for v in seen.values())
    return {pc: next(iter(v)) for pc, v in seen.items() if len(v) == 1}


def library_points(path: Path = LIBRARIES_2016) -> dict[str, list[tuple[float, float]]]:
    """Return postcode -> the points of the libraries listed at it."""
    out: dict[str, list] = defaultdict(list)
    with open(path, encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            pc, point = normalise_postcode(r.get("postcode")), _point(r.get("lat"), r.get("lng"))
            if pc and point:
                out[pc].append(point)
    return out


def register_points(folder: Path = DATA / "fhrs") -> dict[str, list[tuple[float, float]]]:
    """Return postcode -> the geocodes of the establishments at it, over every register file the replay serves."""
    out: dict[str, set] = defaultdict(set)
    for path in sorted(folder.glob("FHRS*.xml")):
        for e in ET.parse(path).getroot().iter("EstablishmentDetail"):
            pc = normalise_postcode(e.findtext("PostCode"))
            point = _point(e.findtext("Geocode/Latitude"), e.findtext("Geocode/Longitude"))
            if pc and point:
                out[pc].add((e.findtext("FHRSID"), point))     # one establishment counts once over the files
    return {pc: [p for _, p in sorted(v)] for pc, v in out.items()}


def _median(points: list[tuple[float, float]], counts: Counter, source: str) -> tuple[float, float]:
    if len(set(points)) > 1:
        counts[f"{source}_several_points"] += 1
    return statistics.median(p[0] for p in points), statistics.median(p[1] for p in points)


def build() -> tuple[list[dict], Counter]:
    """Return the directory's rows (sorted by postcode) and counts of what went into it."""
    counts: Counter[str] = Counter()
    rows = nspl_rows()
    lsoas, libraries, register = grant_lsoas(counts=counts), library_points(), register_points()
    for pc in sorted(set(lsoas) | set(libraries) | set(register)):
        if pc in rows:
            counts["nspl_kept_over_others"] += 1
            continue
        point, source = None, []
        if pc in lsoas:
            source.append("360giving")
        if pc in libraries:
            point = _median(libraries[pc], counts, "library")
            source.append("library")
        elif pc in register:
            point = _median(register[pc], counts, "fhrs")
            source.append("fhrs")
        rows[pc] = {"doterm": "", "lsoa11": lsoas.get(pc, ""), "point": point, "source": "+".join(source)}
    out = []
    for pc in sorted(rows):
        r = rows[pc]
        lat, lng = ("99.999999", "0.000000") if r["point"] is None else (f"{r['point'][0]:.6f}", f"{r['point'][1]:.6f}")
        out.append({"pcds": pc, "doterm": r["doterm"] or "", "lsoa11": r["lsoa11"] or "", "lat": lat, "long": lng,
                    "source": r["source"]})
        counts[f"rows_from/{r['source']}"] += 1
    counts["rows"] = len(out)
    return out, counts


def write(path: Path = OUT) -> Counter:
    """Write the demo directory CSV; return the counts."""
    rows, counts = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return counts


if __name__ == "__main__":
    for key, n in sorted(write().items()):
        print(f"{key}: {n:,}")
