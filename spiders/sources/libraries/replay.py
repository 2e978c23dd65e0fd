"""Replay routes for libraries: three real snapshots served in date order at the LibrariesHacked combined CSV's path.

The live file is rebuilt nightly, so one path serving different content over time is what a crawler sees; the
three recorded views are in three layouts (2016 Taskforce list, LibrariesHacked schema, DCMS/ACE basic dataset).
"""
from __future__ import annotations

from pathlib import Path

from spiders.replay.snapshots import ReplayClock, Snapshot, SnapshotRoute

HERE = Path(__file__).parent / "data"
PATH = "/LibrariesHacked/librarydata-db/main/data/schemas/libraries.csv"
CSV = "text/plain; charset=utf-8"   # what raw.githubusercontent.com sends for .csv
SNAPSHOTS = [
    Snapshot("2016-07-01", HERE / "2016-07-01_england-librarydata_libraries_2016_with_latlng.csv", CSV),
    Snapshot("2021-01-01", HERE / "2021-01-01_librarydata-db_libraries_england_2019ish.csv", CSV),
    Snapshot("2023-12-01", HERE / "2023-12-01_librarydata-db_libraries_england_2023.csv", CSV),
]
DATES = [s.date for s in SNAPSHOTS]


def routes(clock: ReplayClock) -> list:
    return [("GET", PATH, SnapshotRoute(clock, SNAPSHOTS))]


def start_urls(base: str) -> dict[str, str]:
    return {"libraries": base + PATH}
