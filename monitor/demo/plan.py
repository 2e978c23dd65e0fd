"""The demo's timeline: real dated snapshots, replayed week by simulated week.

Each step is one simulated week: the replay clock is set to the step's date, the crawls due that week run
through the same job the scheduler runs, and the weekly digest goes out. Faults make one source fail for a
week, to show that a broken source raises no false closure.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Fault:
    path_prefix: str
    status: int = 500


@dataclass(frozen=True)
class Step:
    date: str                        # YYYY-MM-DD, a Monday: crawls run at 06:00, the digest at 07:00
    crawls: tuple[str, ...]
    note: str
    faults: tuple[Fault, ...] = field(default_factory=tuple)


STEPS = (
    Step("2016-07-04", ("libraries",), "Libraries Taskforce list, July 2016"),
    Step("2020-03-23", ("mutual_aid", "threesixty_giving"),
         "first mutual aid listings (the covidmutualaid.org sheet, 18 March); 360Giving publishers' files"),
    Step("2020-03-30", ("mutual_aid",), "mutualaid.wiki, 27 March"),
    Step("2020-06-29", ("mutual_aid", "threesixty_giving"),
         "mutualaid.wiki UK export, 28 June; 360Giving files unchanged (conditional GET)"),
    Step("2021-01-04", ("libraries",), "LibrariesHacked list, last changed January 2021"),
    Step("2023-12-04", ("libraries", "library_news"), "DCMS / Arts Council England basic dataset, 2023; library news"),
    Step("2024-01-01", ("fhrs_pubs",), "food hygiene register: pubs of five authorities"),
    Step("2024-02-05", ("fhrs_pubs",), "Wandsworth's file without the pubs that closed: missing once"),
    Step("2024-02-12", ("fhrs_pubs",), "the register's files fail for a week (HTTP 500): no closure may follow",
         faults=(Fault("/OpenDataFiles/", 500), Fault("/api/open-data-files/", 500))),
    Step("2024-02-19", ("fhrs_pubs",), "the register is back: missing from a second healthy crawl, so closed"),
)
