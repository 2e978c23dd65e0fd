"""Replay routes for mutual aid listings: the mutualaid.wiki API path and the covidmutualaid.org Google Sheet."""
from __future__ import annotations

from pathlib import Path

from spiders.replay.snapshots import ReplayClock, Snapshot, SnapshotRoute

HERE = Path(__file__).parent / "data"
WIKI_PATH = "/api/group/get"
SHEET_PATH = "/spreadsheets/d/e/2PACX-1vTvSFFG0ByJlzWLBVZ_-sYdhGLvMCCrbb_Fe9sA9LZ_Y_BFoq1BVEFGLf4t--pJ8gg73o0ULvqYlqdk/pub"

# The dated real listings, in the order they were published. The 18 March sheet scrape was geocoded by the
# mutualaid.wiki project and has the wiki's JSON shape; the 28 June export is the wiki's UK CSV.
SNAPSHOTS = [
    Snapshot("2020-03-18", HERE / "2020-03-18_covid-mutual-aid-uk-sheet_geolocated.json", "application/json"),
    Snapshot("2020-03-27", HERE / "2020-03-27_mutualaid-wiki_groups.json", "application/json"),
    Snapshot("2020-06-28", HERE / "2020-06-28_mutualaid-wiki_uk-groups.csv", "text/csv; charset=utf-8"),
]
SHEET = [Snapshot("2020-03-18", HERE / "covidmutualaid-uk-sheet_reconstructed_first6.csv", "text/csv")]


def routes(clock: ReplayClock) -> list:
    return [
        ("GET", WIKI_PATH, SnapshotRoute(clock, SNAPSHOTS)),
        ("GET", SHEET_PATH, SnapshotRoute(clock, SHEET)),
    ]


def start_urls(base: str) -> dict[str, str]:
    return {"mutual_aid": base + WIKI_PATH}
