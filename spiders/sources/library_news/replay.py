"""Replay routes for Public Libraries News: the RSS feed's pages (/feed?paged=N), hand-written (see the README)."""
from __future__ import annotations

from pathlib import Path

from spiders.replay.server import Request, Response
from spiders.replay.snapshots import ReplayClock

HERE = Path(__file__).parent / "data"
PATH = "/feed"


def routes(clock: ReplayClock) -> list:
    def feed(req: Request) -> Response:
        page = HERE / f"feed_paged_{int(req.arg('paged', '1'))}.xml"
        if not page.exists():
            return Response(404, b"<html><body>Page not found</body></html>", {"Content-Type": "text/html"})
        return Response(200, page.read_bytes(), {"Content-Type": "application/rss+xml; charset=UTF-8"})
    return [("GET", PATH + "/?", feed)]


def start_urls(base: str) -> dict[str, str]:
    return {"library_news": base + PATH}
