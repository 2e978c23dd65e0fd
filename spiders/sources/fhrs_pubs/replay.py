"""Replay routes for the FSA food hygiene API: /Authorities, the per-authority open-data XML files, /Establishments.

Files are dated snapshots (data/fhrs/FHRS<code>en-GB_<date>.xml, converted from real Open Pubs extracts by
spiders/sources/fhrs_pubs/replay_build.py); each path serves the latest one at or before the replay clock. The listing's
FileName points back at this server, as the live one points at ratings.food.gov.uk. Tests change what is
served through `override` (code -> bytes) and `hidden` (codes left out of /Authorities).
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

from spiders.replay.server import Request, Response
from spiders.replay.snapshots import ReplayClock, Snapshot, SnapshotRoute
from spiders.sources.fhrs_pubs.fhrs_xml import establishment_from_xml

HERE = Path(__file__).parent / "data"
XML = "application/xml"
LIVE_FILES = "http://ratings.food.gov.uk/OpenDataFiles"
_FILE = re.compile(r"FHRS(?P<code>\w+?)en-GB_(?P<date>\d{4}-\d{2}-\d{2})\.xml\Z")


def recorded_files() -> dict[str, list[Snapshot]]:
    """Return the dated XML snapshots per LocalAuthorityIdCode."""
    out: dict[str, list[Snapshot]] = {}
    for path in sorted(HERE.glob("FHRS*en-GB_*.xml")):
        m = _FILE.match(path.name)
        if m:
            out.setdefault(m["code"], []).append(Snapshot(m["date"], path, XML))
    return out


class FhrsReplay:
    """The FSA API and open-data files as the replay clock says they were."""

    def __init__(self, clock: ReplayClock):
        self.clock = clock
        self.files = {code: SnapshotRoute(clock, snaps) for code, snaps in recorded_files().items()}
        self.override: dict[str, bytes] = {}
        self.hidden: set[str] = set()

    def listing(self) -> list[dict]:
        rows = json.loads((HERE / "authorities.json").read_text(encoding="utf-8"))["authorities"]
        return [r for r in rows if r["LocalAuthorityIdCode"] not in self.hidden]

    def file_body(self, code: str) -> bytes | None:
        if code in self.override:
            return self.override[code]
        route = self.files.get(code)
        snap = route.current() if route else None
        return snap.path.read_bytes() if snap else None

    def authorities(self, req: Request) -> Response:
        headers = {k.lower(): v for k, v in req.headers.items()}
        if headers.get("x-api-version") != "2":   # the live API returns no data without it
            return Response(400, b'{"Message":"The request is invalid."}', {"Content-Type": "application/json"})
        base = f"http://{headers.get('host', '127.0.0.1')}/OpenDataFiles"
        rows = [{**r, "FileName": r["FileName"].replace(LIVE_FILES, base)} for r in self.listing()]
        body = {"authorities": rows, "meta": {"dataSource": None, "extractDate": f"{self.clock.date}T00:00:00",
                                              "itemCount": len(rows), "returncode": "OK", "totalCount": len(rows),
                                              "totalPages": 1, "pageSize": len(rows), "pageNumber": 1},
                "links": []}
        return Response(200, json.dumps(body).encode(), {"Content-Type": "application/json; charset=utf-8"})

    def open_data_file(self, req: Request) -> Response:
        body = self.file_body(req.match["code"])
        if body is None:
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        return Response(200, body, {"Content-Type": XML})

    def establishments(self, req: Request) -> Response:
        """The paged JSON route, built from the same current file."""
        la_id = req.arg("localAuthorityId")
        authority = next((r for r in self.listing() if str(r["LocalAuthorityId"]) == la_id), None)
        body = self.file_body(authority["LocalAuthorityIdCode"]) if authority else None
        rows = []
        if body:
            import xml.etree.ElementTree as ET
            rows = [api_establishment(e) for e in ET.fromstring(body).iter("EstablishmentDetail")]
        rows = [r for r in rows if str(r["BusinessTypeID"]) == req.arg("businessTypeId", str(r["BusinessTypeID"]))]
        page, size = int(req.arg("pageNumber", "1")), int(req.arg("pageSize", "5000"))
        chunk = rows[(page - 1) * size: page * size]
        meta = {"dataSource": "Lucene", "extractDate": "0001-01-01T00:00:00", "itemCount": 0, "returncode": "OK",
                "totalCount": len(rows), "totalPages": math.ceil(len(rows) / size), "pageSize": size,
                "pageNumber": page}
        return Response(200, json.dumps({"establishments": chunk, "meta": meta, "links": []}).encode(),
                        {"Content-Type": "application/json; charset=utf-8"})

    def routes(self) -> list:
        return [("GET", r"/Authorities", self.authorities),
                ("GET", r"/(?:OpenDataFiles|api/open-data-files)/FHRS(?P<code>\w+?)en-GB\.xml", self.open_data_file),
                ("GET", r"/Establishments", self.establishments)]


def api_establishment(element) -> dict:
    """Return one XML establishment in the API v2 JSON shape (exact key case)."""
    e = establishment_from_xml(element)
    lines = [p.strip() for p in (e["address"] or "").split(",")] + ["", "", "", ""]
    return {"FHRSID": int(e["fhrsid"]), "BusinessName": e["name"], "BusinessType": e["business_type"],
            "BusinessTypeID": int(e["business_type_id"]), **{f"AddressLine{i}": lines[i - 1] for i in range(1, 5)},
            "PostCode": e["postcode"] or "", "RatingDate": e["rating_date"] and f"{e['rating_date']}T00:00:00",
            "LocalAuthorityCode": e["authority_code"], "LocalAuthorityName": e["authority"],
            "geocode": {"longitude": e["longitude"], "latitude": e["latitude"]}, "SchemeType": "FHRS",
            "NewRatingPending": False}


def routes(clock: ReplayClock) -> list:
    return FhrsReplay(clock).routes()


def start_urls(base: str) -> dict[str, str]:
    return {"fhrs_pubs": base}
