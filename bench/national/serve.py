"""Replay routes serving one simulated week's files from a folder, at the sources' real paths.

The FSA's /Authorities and open-data files, the 360Giving registry and publishers' files (with ETag and
Last-Modified, answering conditional requests), the library list and the mutual aid list, and postcodes.io from
the recorded replay data. `week_dir` is switched week by week, as the demo moves the replay clock.
"""
from __future__ import annotations

import json
from pathlib import Path

from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer, Request, Response
from spiders.sources.fhrs_pubs.replay import LIVE_FILES, XML
from spiders.sources.libraries import replay as libraries
from spiders.sources.mutual_aid import replay as mutual_aid
from spiders.sources.threesixty_giving.replay import REGISTRY_PATH, PublisherFile, file_handler, registry_handler


class WeekReplay:
    def __init__(self):
        self.week_dir: Path | None = None
        self._files: dict[Path, PublisherFile] = {}

    def authorities(self, req: Request) -> Response:
        headers = {k.lower(): v for k, v in req.headers.items()}
        if headers.get("x-api-version") != "2":
            return Response(400, b'{"Message":"The request is invalid."}', {"Content-Type": "application/json"})
        base = f"http://{headers.get('host', '127.0.0.1')}/OpenDataFiles"
        body = json.loads((self.week_dir / "fhrs" / "authorities.json").read_bytes())
        for row in body["authorities"]:
            row["FileName"] = row["FileName"].replace(LIVE_FILES, base)
        return Response(200, json.dumps(body).encode(), {"Content-Type": "application/json; charset=utf-8"})

    def open_data_file(self, req: Request) -> Response:
        path = self.week_dir / "fhrs" / f"FHRS{req.match['code']}en-GB.xml"
        if not path.exists():
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        return Response(200, headers={"Content-Type": XML}, file=path)

    def registry(self, req: Request) -> Response:
        datasets = json.loads((self.week_dir / "registry.json").read_bytes())
        return registry_handler(datasets)(req)

    def grant_file(self, req: Request) -> Response:
        served = json.loads((self.week_dir / "served_files.json").read_bytes())
        how = served.get(req.path)
        if how is None:
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        path = self.week_dir / "grants" / how["file"]
        if path not in self._files:   # one per week's file: its ETag is hashed once
            self._files[path] = PublisherFile(req.path, path, how["content_type"], modified=how["modified"])
        return file_handler(self._files[path])(req)

    def plain(self, name: str, content_type: str):
        def handle(req: Request) -> Response:
            return Response(200, headers={"Content-Type": content_type}, file=self.week_dir / name)
        return handle

    def routes(self) -> list:
        return [("GET", r"/Authorities", self.authorities),
                ("GET", r"/(?:OpenDataFiles|api/open-data-files)/FHRS(?P<code>\w+?)en-GB\.xml", self.open_data_file),
                ("GET", REGISTRY_PATH.replace(".", r"\."), self.registry),
                ("GET", r"/grants/[\w.-]+", self.grant_file),
                ("GET", libraries.PATH, self.plain("libraries.csv", libraries.CSV)),
                ("GET", mutual_aid.WIKI_PATH, self.plain("mutual_aid.csv", "text/csv; charset=utf-8"))]


def week_server(replay: WeekReplay) -> ReplayServer:
    """Build (not start) a replay server for the weeks, with postcodes.io beside them."""
    return ReplayServer(routes=replay.routes() + postcodes_io.routes())
