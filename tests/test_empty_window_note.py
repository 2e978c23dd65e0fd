"""An empty window's note names that indicator's own latest record: a social club's closure, not any venue's."""
from __future__ import annotations

from core.config import defaults
from monitor.indicators.compute import compute
from tests.indicator_records import DE_BRUCE, JESMOND, by_key, crawl, record

NOW = "2024-06-01T06:00:00"          # the window: the 365 days before, 2023-06-02 to 2024-06-01


def register_with_a_pub_closed_last_month(db) -> int:
    c = crawl(db, "fhrs_pubs", {"Hartlepool": True}, at=NOW)
    record(db, "fhrs_pubs", DE_BRUCE, c, scope="Hartlepool", status="closed", closed_at="2024-05-20")
    record(db, "fhrs_pubs", JESMOND, c, scope="Hartlepool", venue_kind="members_club")   # open
    return c


def test_no_social_club_ever_closed_is_said_so(fresh_db):
    register_with_a_pub_closed_last_month(fresh_db)
    rows = by_key(compute(fresh_db, NOW, defaults()))
    note = rows[("social_club_closures_per_100k", "england")]["note"]
    assert note == "no social club closures recorded in the window (none ever recorded)"
    assert rows[("pub_closures_per_100k", "england")]["numerator"] == 1        # the pub's closure is in the window


def test_the_latest_is_the_social_clubs_own_not_the_pubs(fresh_db):
    c = register_with_a_pub_closed_last_month(fresh_db)
    record(fresh_db, "fhrs_pubs", JESMOND, c, scope="Hartlepool", venue_kind="members_club", status="closed",
           closed_at="2021-03-01")                                               # before the window
    rows = by_key(compute(fresh_db, NOW, defaults()))
    note = rows[("social_club_closures_per_100k", "left_behind")]["note"]
    assert note == "no social club closures recorded in the window (latest: 2021-03-01)"
