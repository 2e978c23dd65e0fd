"""Replay routes for 360Giving: the registry's data.json and each publisher's file, with ETag / Last-Modified.

A request whose If-None-Match matches the file's ETag (or, without one, whose If-Modified-Since is not before
its Last-Modified) is answered 304 with no body, as a publisher's web server would.
The registry (data/threesixty_giving/registry.json) lists download URLs as paths; the base URL of the server that
answers is put in front of them. served_files.json says which file each path serves, with which headers.
`python -m spiders.sources.threesixty_giving.replay` rebuilds the CSV and XLSX renderings.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from spiders.replay.server import Request, Response
from spiders.replay.snapshots import ReplayClock

HERE = Path(__file__).parent / "data"
REGISTRY_PATH = "/data.json"


@dataclass
class PublisherFile:
    """One file a publisher serves: where it lives on disk and how its server labels it."""
    url_path: str                  # path (and query) on the replay server, as listed in the registry
    path: Path
    content_type: str
    disposition: str | None = None
    modified: str = "2024-01-01T00:00:00.000+0000"   # the registry's `modified`, also the Last-Modified
    _etag: str | None = field(default=None, repr=False)

    @property
    def etag(self) -> str:
        if self._etag is None:
            digest = hashlib.sha1()
            with open(self.path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
            self._etag = f'"{digest.hexdigest()[:20]}"'
        return self._etag

    @property
    def last_modified(self) -> datetime:
        return datetime.strptime(self.modified, "%Y-%m-%dT%H:%M:%S.%f%z")


def not_modified(req: Request, f: PublisherFile) -> bool:
    """Apply RFC 9110's order: If-None-Match decides when present, else If-Modified-Since."""
    headers = {k.lower(): v for k, v in req.headers.items()}
    if "if-none-match" in headers:
        tags = {t.strip() for t in headers["if-none-match"].split(",")}
        return f.etag in tags or "*" in tags
    since = headers.get("if-modified-since")
    if since:
        try:
            return f.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def file_handler(f: PublisherFile):
    def handle(req: Request) -> Response:
        headers = {"ETag": f.etag, "Last-Modified": format_datetime(f.last_modified, usegmt=True)}
        if not_modified(req, f):
            return Response(304, b"", headers)
        headers["Content-Type"] = f.content_type
        if f.disposition:
            headers["Content-Disposition"] = f.disposition
        return Response(200, headers=headers, file=f.path)
    return handle


def registry_handler(datasets: list[dict]):
    def handle(req: Request) -> Response:
        base = "http://" + {k.lower(): v for k, v in req.headers.items()}.get("host", "127.0.0.1")
        out = json.loads(json.dumps(datasets))
        for d in out:
            for dist in d["distribution"]:
                if dist["downloadURL"].startswith("/"):
                    dist["downloadURL"] = base + dist["downloadURL"]
        return Response(200, json.dumps(out, indent=1).encode(), {"Content-Type": "application/json"})
    return handle


def recorded() -> tuple[list[dict], list[PublisherFile]]:
    """Return the recorded registry entries and the files they point at (data/threesixty_giving/)."""
    registry = json.loads((HERE / "registry.json").read_text(encoding="utf-8"))
    served = json.loads((HERE / "served_files.json").read_text(encoding="utf-8"))
    files = []
    for d in registry:
        url_path = d["distribution"][0]["downloadURL"]
        how = served[url_path]
        files.append(PublisherFile(url_path, HERE / how["file"], how["content_type"], how.get("disposition"),
                                   d["modified"]))
    return registry, files


def build_routes(datasets: list[dict], files: list[PublisherFile]) -> list:
    """Return routes serving this registry and these files (the benchmark builds its own)."""
    out = [("GET", re.escape(REGISTRY_PATH), registry_handler(datasets))]
    for f in files:
        out.append(("GET", re.escape(f.url_path.split("?")[0]), file_handler(f)))
    return out


def routes(clock: ReplayClock) -> list:
    # The files are not dated snapshots: the registry and files are served as recorded whatever the clock says.
    return build_routes(*recorded())


def start_urls(base: str) -> dict[str, str]:
    return {"threesixty_giving": base + REGISTRY_PATH}


if __name__ == "__main__":
    from spiders.sources.threesixty_giving.replay_tables import build
    build(HERE)
