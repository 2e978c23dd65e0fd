"""A single ward's figure by the area groups' rules: Garwood or compound-Poisson interval, "too few to say" under
20 records or when its interval overlaps England's, and no interval at all where nothing was recorded."""
from __future__ import annotations

import pytest
from scipy.stats import chi2

from core.config import defaults
from monitor.indicators.compute import measure
from monitor.indicators.definitions import BY_NAME
from monitor.indicators.ward_figure import ward_figure, ward_rows
from tests.indicator_records import DE_BRUCE, JESMOND, crawl, record

HEADLAND_POP = 8_356
COVID, PUBS = BY_NAME["covid_grants_gbp_per_100k"], BY_NAME["pubs_per_100k"]


def test_one_grant_is_too_few_to_say():
    f = ward_figure(COVID, 220_000.0, 1, 220_000.0 ** 2, HEADLAND_POP)
    assert f["value"] == pytest.approx(2_632_838.7, abs=0.1)                 # 220,000 × 100,000 / 8,356
    assert f["ci_low"] == 0.0                                                # 220,000 − 1.96 × 220,000 < 0
    assert f["ci_high"] == pytest.approx(220_000 * 2.959964 * 1e5 / HEADLAND_POP, rel=1e-6)
    assert f["reliable"] is False and f["note"] == "too few to say: 1 grant (fewer than 20)"


def test_enough_records_clear_of_england_can_be_told_and_overlapping_cannot():
    low, high = chi2.ppf(0.025, 50) / 2 * 1e5 / HEADLAND_POP, chi2.ppf(0.975, 52) / 2 * 1e5 / HEADLAND_POP
    clear = ward_figure(PUBS, 25, 25, 25.0, HEADLAND_POP, england=(56.4, 64.0))  # 299 per 100,000: far above
    assert (clear["ci_low"], clear["ci_high"]) == pytest.approx((low, high), rel=0.001)
    assert clear["reliable"] is True and clear["note"] == ""
    near = ward_figure(PUBS, 25, 25, 25.0, HEADLAND_POP, england=(250.0, 260.0))
    assert near["reliable"] is False and near["note"] == "too few to say: its interval overlaps England's"


def test_nothing_recorded_has_no_rate_and_no_interval():
    for ind, noun in ((COVID, "grants"), (PUBS, "pubs and bars")):
        f = ward_figure(ind, 0.0, 0, 0.0, HEADLAND_POP)
        assert (f["value"], f["ci_low"], f["ci_high"]) == (None, None, None)
        assert f["note"] == f"no {noun} recorded in this ward"
    assert ward_figure(COVID, None, 0, 0.0, HEADLAND_POP)["note"] == ""      # not counted: no data, said by callers


def test_the_cli_ward_rows_give_no_pound_zero_interval(fresh_db):
    c = crawl(fresh_db, "threesixty_giving", {"threesixty_giving": True})
    record(fresh_db, "threesixty_giving", DE_BRUCE, c, amount=1000.0, currency="GBP", award_date="2024-05-01")
    m = measure(fresh_db, "2024-06-01T06:00:00", defaults())
    jesmond = {r["indicator"]: r for r in ward_rows(m, JESMOND)}["grants_gbp_per_100k"]
    assert (jesmond["value"], jesmond["ci_low"], jesmond["ci_high"]) == (None, None, None)
    assert jesmond["note"] == "no grants recorded in this ward"
