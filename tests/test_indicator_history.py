"""Indicator history: past computations are queries over the stored rows."""
from __future__ import annotations

from core.config import defaults
from monitor.indicators import history
from monitor.indicators.compute import INDICATORS, compute_and_store
from tests.indicator_records import DE_BRUCE, LEFT_BEHIND_POP, crawl, record


def _two_weeks(db):
    c = crawl(db, "mutual_aid", {"mutual_aid": True})
    record(db, "mutual_aid", DE_BRUCE, c)
    compute_and_store(db, "2024-06-01T07:00:00", defaults())
    record(db, "mutual_aid", DE_BRUCE, c)
    compute_and_store(db, "2024-06-08T07:00:00", defaults())


def test_latest_computation_at_a_date_or_instant(fresh_db):
    _two_weeks(fresh_db)
    assert history.computation_times(fresh_db) == ["2024-06-01T07:00:00", "2024-06-08T07:00:00"]
    assert history.latest_computed_at(fresh_db) == "2024-06-08T07:00:00"
    assert history.latest_computed_at(fresh_db, "2024-06-08") == "2024-06-08T07:00:00"   # a date counts whole
    assert history.latest_computed_at(fresh_db, "2024-06-08T06:59:59") == "2024-06-01T07:00:00"
    assert history.latest_computed_at(fresh_db, "2024-05-31") is None


def test_rows_at_come_back_in_report_order_with_coverage_parsed(fresh_db):
    _two_weeks(fresh_db)
    rows = history.rows_at(fresh_db, "2024-06-01T07:00:00")
    assert [(r["indicator"], r["area_group"]) for r in rows[:3]] == [
        ("mutual_aid_groups_per_100k", g) for g in ("left_behind", "other_deprived", "england")]
    assert len(rows) == 3 * len(INDICATORS)
    assert rows[0]["numerator"] == 1 and rows[0]["coverage"]["wards"] == 225
    assert set(history.public_row(rows[0])) == set(history.ROW_KEYS)


def test_series_is_a_trend(fresh_db):
    _two_weeks(fresh_db)
    points = history.series(fresh_db, "mutual_aid_groups_per_100k", "left_behind")
    assert [t for t, _ in points] == ["2024-06-01T07:00:00", "2024-06-08T07:00:00"]
    assert points[1][1] == 2 * 100_000 / LEFT_BEHIND_POP
    assert history.series(fresh_db, "pubs_per_100k", "england") == [("2024-06-01T07:00:00", None),
                                                                     ("2024-06-08T07:00:00", None)]
