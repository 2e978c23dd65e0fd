"""95% intervals and the 'too few to say' flag: exact Poisson for counts, compound Poisson for money."""
from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from scipy.stats import chi2

from core.config import defaults
from monitor.indicators.compute import compute
from monitor.indicators.intervals import money_interval, overlaps, poisson_interval
from run import cli
from tests.indicator_records import DE_BRUCE, ENGLAND_POP, LEFT_BEHIND_POP, crawl, record

# Garwood (1936) exact 95% limits as printed in the standard tables (e.g. Sahai & Khurshid 1993, Table 1).
PUBLISHED = {0: (0.0, 3.689), 1: (0.0253, 5.572), 2: (0.2422, 7.225), 5: (1.6235, 11.668), 10: (4.7954, 18.390)}


@pytest.mark.parametrize("k", sorted(PUBLISHED))
def test_poisson_interval_matches_the_published_table(k):
    low, high = poisson_interval(k)
    want_low, want_high = PUBLISHED[k]
    assert high == pytest.approx(want_high, rel=0.001)
    assert low == pytest.approx(want_low, rel=0.001, abs=1e-9)


@pytest.mark.parametrize("k", [3, 20, 55, 133, 1383, 50_000])
def test_poisson_interval_matches_the_chi_square_form(k):
    """The same limits through another route: chi-square quantiles, halved."""
    low, high = poisson_interval(k)
    assert low == pytest.approx(chi2.ppf(0.025, 2 * k) / 2, rel=0.01)
    assert high == pytest.approx(chi2.ppf(0.975, 2 * k + 2) / 2, rel=0.01)


def test_money_interval_by_hand():
    # Three grants of £100, £200, £300: total £600, Σa² = 140,000, √ = 374.17, × 1.96 = 733.4.
    low, high = money_interval(600.0, 100 ** 2 + 200 ** 2 + 300 ** 2)
    assert low == 0.0 and high == pytest.approx(600 + 1.959964 * math.sqrt(140_000), rel=1e-6)
    assert overlaps((1, 2), (2, 3)) and not overlaps((1, 2), (2.5, 3)) and overlaps((None, 1), (5, 6))


def test_rows_carry_intervals_and_small_numbers_are_too_few_to_say(fresh_db):
    g = "threesixty_giving"
    c = crawl(fresh_db, g, {g: True})
    for _ in range(3):   # three COVID grants of £1,000 in one left-behind ward
        record(fresh_db, g, DE_BRUCE, c, amount=1000.0, currency="GBP", award_date="2020-05-01", covid=1)
    fresh_db.conn.commit()
    rows = {(r["indicator"], r["area_group"]): r for r in compute(fresh_db, "2020-06-01T00:00:00", defaults())}
    lb = rows[("covid_grants_gbp_per_100k", "left_behind")]
    assert lb["value"] == pytest.approx(3000 * 1e5 / LEFT_BEHIND_POP)
    half = 1.959964 * math.sqrt(3 * 1000 ** 2) * 1e5 / LEFT_BEHIND_POP
    assert lb["ci_high"] == pytest.approx(lb["value"] + half, rel=1e-6)
    assert lb["ci_low"] == pytest.approx(max(lb["value"] - half, 0), rel=1e-6)
    assert lb["reliable"] is False and lb["note"] == "too few to say: 3 grants (fewer than 20)"
    count = rows[("grants_count_per_100k", "england")]
    low, high = PUBLISHED_3 = (chi2.ppf(0.025, 6) / 2, chi2.ppf(0.975, 8) / 2)
    assert (count["ci_low"], count["ci_high"]) == pytest.approx((low * 1e5 / ENGLAND_POP, high * 1e5 / ENGLAND_POP),
                                                                rel=0.01)
    assert PUBLISHED_3[0] < 3 < PUBLISHED_3[1]


def test_an_empty_window_is_no_data_with_the_latest_date_not_zero(fresh_db):
    g = "threesixty_giving"
    c = crawl(fresh_db, g, {g: True})
    record(fresh_db, g, DE_BRUCE, c, amount=1000.0, currency="GBP", award_date="2020-05-01", covid=1)
    fresh_db.conn.commit()
    rows = {(r["indicator"], r["area_group"]): r for r in compute(fresh_db, "2024-06-01T00:00:00", defaults())}
    for group in ("left_behind", "england"):
        row = rows[("grants_gbp_per_100k", group)]
        assert row["value"] is None and row["numerator"] is None and row["reliable"] is False
        assert row["note"] == "no grants recorded in the window (latest: 2020-05-01)"


def test_indicators_json_has_the_interval_fields(fresh_db, db_path, private_db_path):
    c = crawl(fresh_db, "mutual_aid", {"mutual_aid": True})
    for _ in range(25):
        record(fresh_db, "mutual_aid", DE_BRUCE, c)
    fresh_db.conn.commit()
    out = CliRunner().invoke(cli, ["--db", str(db_path), "--private-db", str(private_db_path), "indicators",
                                   "--json"])
    assert out.exit_code == 0, out.output
    rows = {(r["indicator"], r["area_group"]): r for r in json.loads(out.output)}
    lb = rows[("mutual_aid_groups_per_100k", "left_behind")]
    assert {"ci_low", "ci_high", "reliable"} <= set(lb)
    assert lb["ci_low"] == pytest.approx(chi2.ppf(0.025, 50) / 2 * 1e5 / LEFT_BEHIND_POP, rel=0.01)
    assert lb["reliable"] is True                     # 25 groups, England's interval far from it
