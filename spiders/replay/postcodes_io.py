"""A postcodes.io stand-in for the replay server: bulk and single postcode lookups and place search.

Serves recorded answers from data/postcodes_io/ (real NSPL rows converted to the postcodes.io shape, and the
postcodes.io documentation's own example responses), with the real API's error shapes. Mount it with
`ReplayServer(routes=postcodes_io.routes())`; `routes(latency=0.15)` answers every request that much later, as
a distant server would (for benchmarks). `python -m spiders.replay.postcodes_io` rebuilds the converted file.
"""
from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path
from urllib.parse import unquote

from spiders.replay.server import Request, Response

DATA_DIR = Path(__file__).parent / "data" / "postcodes_io"
RAW = Path(__file__).resolve().parents[2] / "db" / "reference" / "raw"
BULK_MAX = 100
DOCS_BULK = "docs_bulk_lookup_response.json"          # verbatim from the postcodes.io docs
DOCS_PLACES = "docs_places.json"                      # the docs' place examples, both shapes
NSPL_POSTCODES = "nspl_postcodes_converted.json"      # CONVERTED from db/reference/raw/nspl_postcode_sample.json
NSPL_TERMINATED = "nspl_terminated_converted.json"

# Error messages verbatim from postcodes.io's source (api/app/lib/errors.ts).
TOO_MANY = "Too many postcodes submitted. Up to 100 postcodes can be bulk requested at a time"
NOT_ARRAY = "Invalid data submitted. You need to provide a JSON array"
NO_POSTCODES = ("Invalid JSON query submitted. \nYou need to submit a JSON object with an array of postcodes or "
                "geolocation objects.\nAlso ensure that Content-Type is set to application/json\n")
_LOOSE_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}\Z")


def _json(status: int, payload: dict) -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": "application/json; charset=utf-8"})


def _key(postcode: str) -> str:
    # postcodes.io ignores case and spaces when it looks a postcode up.
    return re.sub(r"\s+", "", postcode).upper()


def load_data(data_dir: Path = DATA_DIR) -> tuple[dict, dict, list]:
    """Return (postcode results by compact key, terminated postcodes by compact key, places)."""
    def read(name: str) -> list:
        return json.loads((data_dir / name).read_text(encoding="utf-8"))["result"]

    docs = [item["result"] for item in read(DOCS_BULK) if item["result"]]
    postcodes = docs + read(NSPL_POSTCODES)
    terminated = read(NSPL_TERMINATED)
    places = read(DOCS_PLACES)
    return ({_key(r["postcode"]): r for r in postcodes}, {_key(t["postcode"]): t for t in terminated}, places)


def routes(data_dir: Path | str = DATA_DIR, latency: float = 0.0) -> list[tuple[str, str, object]]:
    """Return the replay routes of postcodes.io served from the recorded data in data_dir, `latency` s late."""
    postcodes, terminated, places = load_data(Path(data_dir))

    def late(handler):
        if not latency:
            return handler

        def answer(req: Request) -> Response:
            time.sleep(latency)     # the server is threaded: requests in flight wait side by side
            return handler(req)
        return answer

    def bulk(req: Request) -> Response:
        try:
            body = json.loads(req.body or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict) or "postcodes" not in body:
            return _json(400, {"status": 400, "error": NO_POSTCODES})
        asked = body["postcodes"]
        if not isinstance(asked, list):
            return _json(400, {"status": 400, "error": NOT_ARRAY})
        if len(asked) > BULK_MAX:
            return _json(400, {"status": 400, "error": TOO_MANY})
        result = [{"query": q, "result": postcodes.get(_key(q))} for q in asked if isinstance(q, str)]
        return _json(200, {"status": 200, "result": result})

    def single(req: Request) -> Response:
        key = _key(unquote(req.match.group("pc")))
        if key in postcodes:
            return _json(200, {"status": 200, "result": postcodes[key]})
        if not _LOOSE_POSTCODE.match(key):
            return _json(404, {"status": 404, "error": "Invalid postcode"})
        if key in terminated:
            return _json(404, {"status": 404, "error": "Postcode not found", "terminated": terminated[key]})
        return _json(404, {"status": 404, "error": "Postcode not found"})

    def place_search(req: Request) -> Response:
        q = (req.arg("q") or req.arg("query") or "").strip().lower()
        if not q:
            return _json(400, {"status": 400, "error": "No query submitted"})
        limit = min(int(req.arg("limit", "10") or 10), 100)
        hits = [p for p in places if (p.get("name_1") or p.get("place_name") or "").lower().startswith(q)]
        return _json(200, {"status": 200, "result": hits[:limit]})

    return [("POST", r"/postcodes", late(bulk)), ("GET", r"/postcodes/(?P<pc>[^/]+)", late(single)),
            ("GET", r"/places", late(place_search))]


def _names(path: Path, code_col: str, name_col: str) -> dict[str, str]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r[code_col]: r[name_col] for r in csv.DictReader(f)}


def nspl_to_postcodes_io(row: dict, names: dict[str, dict[str, str]]) -> dict:
    """Convert one NSPL row to the postcodes.io result shape; fields NSPL does not carry are null."""
    pc = row["pcds"]
    lad, ward, lsoa = row["laua"], row["ward"], row["lsoa11"]
    codes = {
        "admin_district": lad, "admin_county": row["cty"], "admin_ward": ward, "parish": None,
        "parliamentary_constituency": row["pcon"], "ccg": row["ccg"], "ced": row["ced"], "lsoa": lsoa,
        "msoa": row["msoa11"], "lau2": row["nuts"], "pfa": row["pfa"], "ttwa": row["ttwa"],
        "national_park": row["park"], "lsoa11": lsoa, "msoa11": row["msoa11"], "lep1": row["lep1"],
        "lep2": row["lep2"],
    }
    return {
        "postcode": pc, "quality": row["osgrdind"], "eastings": row["oseast1m"], "northings": row["osnrth1m"],
        "country": names["country"].get(row["ctry"]), "longitude": row["long"], "latitude": row["lat"],
        "region": names["region"].get(row["rgn"]), "lsoa": names["lsoa"].get(lsoa), "msoa": None,
        "incode": pc[-3:], "outcode": pc[:-4], "admin_district": names["lad"].get(lad),
        "admin_ward": names["ward"].get(ward), "date_of_introduction": row["dointr"][:7].replace("-", ""),
        "lsoa11": names["lsoa"].get(lsoa), "codes": codes,
    }


def build_nspl_results(raw: Path = RAW) -> tuple[list[dict], list[dict]]:
    """Return (live postcodes, terminated postcodes) converted from the bundled NSPL sample."""
    rows = json.loads((raw / "nspl_postcode_sample.json").read_text(encoding="utf-8"))
    with open(raw / "la_all_codes.csv", newline="", encoding="utf-8") as f:
        las = list(csv.DictReader(f))
    names = {
        "lad": {r["LADCD"]: r["LADNM"] for r in las}, "region": {r["RGNCD"]: r["RGNNM"] for r in las},
        "country": {r["CTRYCD"]: r["CTRYNM"] for r in las},
        "ward": _names(raw / "ward_all_codes.csv", "WDCD", "WDNM"),
        "lsoa": _names(raw / "population_mid2019_lsoa11.csv", "lsoa11_code", "lsoa11_name"),
    }
    live = [nspl_to_postcodes_io(r, names) for r in rows if not r["doterm"]]
    # postcodes.io drops terminated postcodes from lookups and reports them only on the single GET.
    ended = [{"postcode": r["pcds"], "year_terminated": int(r["doterm"][:4]),
              "month_terminated": int(r["doterm"][5:7]), "longitude": r["long"], "latitude": r["lat"]}
             for r in rows if r["doterm"]]
    return live, ended


def write_data(data_dir: Path = DATA_DIR) -> None:
    """Rewrite the two files converted from the NSPL sample."""
    live, ended = build_nspl_results()
    for name, rows in ((NSPL_POSTCODES, live), (NSPL_TERMINATED, ended)):
        text = json.dumps({"status": 200, "result": rows}, indent=1) + "\n"
        (data_dir / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_data()
