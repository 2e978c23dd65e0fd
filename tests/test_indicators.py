"""Indicators: hand-computed figures on real wards with their real populations."""
from __future__ import annotations

import pytest

from core.config import defaults
from monitor.indicators.compute import BY_NAME, INDICATORS, compute, compute_and_store, measure, rate, within
from monitor.indicators.coverage import counted_sources
from monitor.indicators.tally import tally_query
from monitor.indicators.ward_figure import ward_rows
from tests.indicator_records import (
    BURN_VALLEY,
    DE_BRUCE,
    ENGLAND_POP,
    HART,
    HARTLEPOOL_LB_POP,
    HARTLEPOOL_OD_POP,
    HARTLEPOOL_POP,
    JESMOND,
    KINGSWOOD,
    LEFT_BEHIND_POP,
    MANOR_HOUSE,
    OTHER_DEPRIVED_POP,
    VICTORIA,
    by_key,
    crawl,
    record,
)

SOURCES = counted_sources()

NOW = "2024-06-30T12:00:00"


def per100k(n, pop):
    return n * 100_000 / pop


def test_indicator_names_are_the_published_ones():
    assert [i.name for i in INDICATORS] == [
        "mutual_aid_groups_per_100k", "grants_gbp_per_100k", "grants_count_per_100k", "covid_grants_gbp_per_100k",
        "pubs_per_100k", "pub_closures_per_100k", "social_clubs_per_100k", "social_club_closures_per_100k",
        "libraries_per_100k", "library_closures_per_100k"]


@pytest.mark.parametrize("value, lo, hi, inside", [
    ("2024-03-01", "2024-01-01", "2024-06-30", True),
    ("2024-06-30T23:59:00+00:00", "2024-01-01", "2024-06-30", True),   # the end day counts whole
    ("2023-12-31", "2024-01-01", "2024-06-30", False),
    ("2010", "2010-01-01", "2024-06-30", True),                        # a bare year, compared as a year
    ("2009", "2010-01-01", "2024-06-30", False),
    ("2024-07", "2024-01-01", "2024-06-30", False),
    (None, "2010-01-01", "2024-06-30", False),
])
def test_within_compares_at_the_dates_own_precision(fresh_db, value, lo, hi, inside):
    sql = "SELECT " + within(":v", ":lo", ":hi")
    assert bool(fresh_db.execute(sql, {"v": value, "lo": lo, "hi": hi}).fetchone()[0]) is inside


def test_mutual_aid_groups_in_latest_healthy_crawl(fresh_db):
    old = crawl(fresh_db, "mutual_aid", {"mutual_aid": True})
    c = crawl(fresh_db, "mutual_aid", {"mutual_aid": True})
    record(fresh_db, "mutual_aid", DE_BRUCE, c)
    record(fresh_db, "mutual_aid", DE_BRUCE, c)
    record(fresh_db, "mutual_aid", BURN_VALLEY, c)
    record(fresh_db, "mutual_aid", HART, c)
    record(fresh_db, "mutual_aid", None, c)                     # unresolved: in coverage, in no numerator
    record(fresh_db, "mutual_aid", JESMOND, old)                # not listed in the latest crawl
    record(fresh_db, "mutual_aid", JESMOND, c, status="closed")
    rows = by_key(compute(fresh_db, NOW, defaults()))
    lb = rows[("mutual_aid_groups_per_100k", "left_behind")]
    assert (lb["numerator"], lb["population"]) == (2, LEFT_BEHIND_POP)
    assert lb["value"] == pytest.approx(per100k(2, LEFT_BEHIND_POP))
    od = rows[("mutual_aid_groups_per_100k", "other_deprived")]
    assert (od["numerator"], od["population"]) == (1, OTHER_DEPRIVED_POP)
    eng = rows[("mutual_aid_groups_per_100k", "england")]
    assert (eng["numerator"], eng["population"]) == (4, ENGLAND_POP)
    assert eng["value"] == pytest.approx(per100k(4, ENGLAND_POP))
    cov = eng["coverage"]
    assert (cov["wards"], cov["population"], cov["share_of_group_population"]) == (7427, ENGLAND_POP, 1.0)
    assert (cov["records"], cov["resolved_share"]) == (5, 0.8)
    assert cov["note"].startswith(f"mutual_aid crawl {c}: all England")


def test_an_unhealthy_latest_crawl_keeps_the_last_good_one(fresh_db):
    good = crawl(fresh_db, "mutual_aid", {"mutual_aid": True})
    record(fresh_db, "mutual_aid", DE_BRUCE, good)
    crawl(fresh_db, "mutual_aid", {"mutual_aid": False})
    lb = by_key(compute(fresh_db, NOW, defaults()))[("mutual_aid_groups_per_100k", "left_behind")]
    assert lb["numerator"] == 1
    assert f"crawl {good}:" in lb["coverage"]["note"]


def test_no_healthy_crawl_is_no_data_never_zero(fresh_db):
    c = crawl(fresh_db, "mutual_aid", {"mutual_aid": False})
    record(fresh_db, "mutual_aid", DE_BRUCE, c)
    rows = compute(fresh_db, NOW, defaults())
    for r in rows:
        if r["indicator"] in ("mutual_aid_groups_per_100k", "pubs_per_100k"):
            assert (r["numerator"], r["population"], r["value"]) == (None, None, None)
            assert r["coverage"]["note"].startswith("no data")
            assert r["coverage"]["wards"] == 0


def _grants(db):
    c = crawl(db, "threesixty_giving", {"threesixty_giving": True})
    g = "threesixty_giving"
    record(db, g, DE_BRUCE, c, amount=1000.0, currency="GBP", award_date="2024-01-15")
    record(db, g, MANOR_HOUSE, c, amount=500.5, currency="GBP", award_date="2023-07-01T00:00:00+00:00")
    record(db, g, JESMOND, c, amount=2000.0, currency="USD", award_date="2024-02-01")
    record(db, g, BURN_VALLEY, c, amount=300.0, currency="GBP", award_date="2022-12-01")   # before the window
    record(db, g, HART, c, amount=200.0, currency="GBP", award_date="2024-06-30")
    record(db, g, None, c, amount=50.0, currency="GBP", award_date="2024-05-05")         # unresolved
    record(db, g, DE_BRUCE, c, amount=10_000.0, currency="GBP", award_date="2020-05-01", covid=1)
    record(db, g, VICTORIA, c, amount=4_000.0, currency="GBP", award_date="2021-02-01", covid=1)
    record(db, g, BURN_VALLEY, c, amount=5_000.0, currency="EUR", award_date="2020-06-01", covid=1)


def test_grants_in_the_default_window(fresh_db):
    _grants(fresh_db)
    rows = by_key(compute(fresh_db, NOW, defaults()))   # 365 days before 2024-06-30: from 2023-07-01
    gbp = rows[("grants_gbp_per_100k", "left_behind")]
    assert gbp["numerator"] == pytest.approx(1500.5)             # the USD grant is not in the £ figure
    assert gbp["value"] == pytest.approx(per100k(1500.5, LEFT_BEHIND_POP))
    assert gbp["coverage"]["excluded_non_gbp"] == 1
    assert (gbp["coverage"]["records"], gbp["coverage"]["resolved_share"]) == (5, 0.8)
    assert rows[("grants_count_per_100k", "left_behind")]["numerator"] == 3
    assert rows[("grants_gbp_per_100k", "other_deprived")]["numerator"] == 0
    assert rows[("grants_gbp_per_100k", "other_deprived")]["value"] == 0.0       # covered, and truly none
    assert rows[("grants_gbp_per_100k", "england")]["numerator"] == pytest.approx(1700.5)
    assert rows[("grants_count_per_100k", "england")]["numerator"] == 4
    assert gbp["window_from"] == "2023-07-01" and gbp["window_to"] == "2024-06-30"


def test_grants_in_a_chosen_window(fresh_db):
    _grants(fresh_db)
    rows = by_key(compute(fresh_db, NOW, defaults(), window_from="2022-01-01", window_to="2022-12-31"))
    assert rows[("grants_gbp_per_100k", "other_deprived")]["numerator"] == 300
    assert rows[("grants_count_per_100k", "left_behind")]["numerator"] == 0


def test_covid_grants_any_date_gbp_only(fresh_db):
    _grants(fresh_db)
    rows = by_key(compute(fresh_db, NOW, defaults()))
    lb, od = rows[("covid_grants_gbp_per_100k", "left_behind")], rows[("covid_grants_gbp_per_100k", "other_deprived")]
    assert lb["value"] == pytest.approx(per100k(10_000, LEFT_BEHIND_POP))
    assert od["numerator"] == 4_000 and od["coverage"]["excluded_non_gbp"] == 1
    assert rows[("covid_grants_gbp_per_100k", "england")]["numerator"] == 14_000
    assert lb["window_from"] is None


def test_pubs_over_healthy_authorities_only(fresh_db):
    c = crawl(fresh_db, "fhrs_pubs", {"Hartlepool": True, "Corby": False})
    p = "fhrs_pubs"
    for ward in (DE_BRUCE, DE_BRUCE, JESMOND, BURN_VALLEY, HART):
        record(fresh_db, p, ward, c, scope="Hartlepool")
    record(fresh_db, p, None, c, scope="Hartlepool")
    record(fresh_db, p, MANOR_HOUSE, c, scope="Hartlepool", status="closed", closed_at="2024-03-01")
    record(fresh_db, p, VICTORIA, c, scope="Hartlepool", status="closed", closed_at="2020-01-01")
    record(fresh_db, p, KINGSWOOD, c, scope="Corby")           # its authority's crawl was unhealthy
    record(fresh_db, p, KINGSWOOD, c, scope="Corby")
    rows = by_key(compute(fresh_db, NOW, defaults()))
    lb, od, eng = (rows[("pubs_per_100k", g)] for g in ("left_behind", "other_deprived", "england"))
    assert (lb["numerator"], lb["population"]) == (3, HARTLEPOOL_LB_POP)
    assert lb["value"] == pytest.approx(per100k(3, HARTLEPOOL_LB_POP))
    assert (od["numerator"], od["population"]) == (1, HARTLEPOOL_OD_POP)
    assert (eng["numerator"], eng["population"]) == (5, HARTLEPOOL_POP)
    assert eng["coverage"]["wards"] == 11
    assert eng["coverage"]["share_of_group_population"] == round(HARTLEPOOL_POP / ENGLAND_POP, 4)
    assert lb["coverage"]["share_of_group_population"] == round(HARTLEPOOL_LB_POP / LEFT_BEHIND_POP, 4)
    assert (eng["coverage"]["records"], eng["coverage"]["resolved_share"]) == (6, round(5 / 6, 4))
    closures = rows[("pub_closures_per_100k", "left_behind")]
    assert closures["value"] == pytest.approx(per100k(1, HARTLEPOOL_LB_POP))
    assert rows[("pub_closures_per_100k", "other_deprived")]["numerator"] == 0     # 2020 is outside the window
    assert rows[("pub_closures_per_100k", "england")]["numerator"] == 1


def test_libraries_whole_source_and_closures_since_2010(fresh_db):
    c = crawl(fresh_db, "libraries", {"libraries": True})
    lib = "libraries"
    for ward in (DE_BRUCE, VICTORIA, HART):
        record(fresh_db, lib, ward, c)
    for ward, closed in ((JESMOND, "2012"), (JESMOND, "2010"), (JESMOND, "2009"), (BURN_VALLEY, "2015-05-01")):
        record(fresh_db, lib, ward, c, status="closed", closed_at=closed)
    rows = by_key(compute(fresh_db, NOW, defaults()))
    assert rows[("libraries_per_100k", "left_behind")]["value"] == pytest.approx(per100k(1, LEFT_BEHIND_POP))
    assert rows[("libraries_per_100k", "england")]["numerator"] == 3
    assert rows[("library_closures_per_100k", "left_behind")]["numerator"] == 2      # 2009 is before 2010
    assert rows[("library_closures_per_100k", "other_deprived")]["numerator"] == 1
    assert rows[("library_closures_per_100k", "england")]["value"] == pytest.approx(per100k(3, ENGLAND_POP))
    assert rows[("library_closures_per_100k", "england")]["window_from"] == "2010-01-01"
    later = by_key(compute(fresh_db, NOW, dict(defaults(), library_closures_since="2011-01-01")))
    assert later[("library_closures_per_100k", "left_behind")]["numerator"] == 1


def test_open_libraries_are_those_the_latest_healthy_list_names(fresh_db):
    first = crawl(fresh_db, "libraries", {"libraries": True}, at="2021-01-04T06:00:00")
    record(fresh_db, "libraries", DE_BRUCE, first)          # an older row the later list no longer names
    latest = crawl(fresh_db, "libraries", {"libraries": True})
    record(fresh_db, "libraries", JESMOND, latest)
    rows = by_key(compute(fresh_db, NOW, defaults()))
    assert rows[("libraries_per_100k", "left_behind")]["numerator"] == 1


def test_ward_rows_give_one_wards_figures(fresh_db):
    c = crawl(fresh_db, "fhrs_pubs", {"Hartlepool": True})
    record(fresh_db, "fhrs_pubs", DE_BRUCE, c, scope="Hartlepool")
    record(fresh_db, "fhrs_pubs", DE_BRUCE, c, scope="Hartlepool")
    m = measure(fresh_db, NOW, defaults())
    mine = {r["indicator"]: r for r in ward_rows(m, DE_BRUCE)}
    assert mine["pubs_per_100k"]["value"] == pytest.approx(per100k(2, 8_895))
    assert mine["mutual_aid_groups_per_100k"]["value"] is None
    assert mine["mutual_aid_groups_per_100k"]["coverage"]["covered"] is False
    outside = {r["indicator"]: r for r in ward_rows(m, KINGSWOOD)}
    assert outside["pubs_per_100k"]["value"] is None                 # Corby was not crawled


def test_history_across_two_computations(fresh_db):
    c = crawl(fresh_db, "mutual_aid", {"mutual_aid": True})
    record(fresh_db, "mutual_aid", DE_BRUCE, c)
    first = compute_and_store(fresh_db, "2024-06-01T07:00:00", defaults())
    c2 = crawl(fresh_db, "mutual_aid", {"mutual_aid": True})
    fresh_db.execute("UPDATE groups SET last_crawl_id = ?", [c2])
    record(fresh_db, "mutual_aid", JESMOND, c2)
    compute_and_store(fresh_db, "2024-06-08T07:00:00", defaults())
    compute_and_store(fresh_db, "2024-06-08T07:00:00", defaults())    # same instant again: replaced, not doubled
    assert len(first) == len(INDICATORS) * 3
    assert fresh_db["indicators"].count == 2 * len(INDICATORS) * 3
    values = fresh_db.execute("""SELECT computed_at, numerator, value FROM indicators
        WHERE indicator = 'mutual_aid_groups_per_100k' AND area_group = 'left_behind'
        ORDER BY computed_at""").fetchall()
    assert values == [("2024-06-01T07:00:00", 1, pytest.approx(rate(1, LEFT_BEHIND_POP))),
                      ("2024-06-08T07:00:00", 2, pytest.approx(rate(2, LEFT_BEHIND_POP)))]
    stored = fresh_db.execute("SELECT coverage FROM indicators LIMIT 1").fetchone()[0]
    assert '"share_of_group_population": 1.0' in stored


def test_record_in_an_unknown_ward_counts_outside_coverage(fresh_db):
    c = crawl(fresh_db, "mutual_aid", {"mutual_aid": True})
    record(fresh_db, "mutual_aid", DE_BRUCE, c)
    record(fresh_db, "mutual_aid", "W05000001", c)            # a Welsh ward: no English area group
    eng = by_key(compute(fresh_db, NOW, defaults()))[("mutual_aid_groups_per_100k", "england")]
    assert eng["numerator"] == 1
    assert (eng["coverage"]["records"], eng["coverage"]["outside_coverage"]) == (2, 1)


@pytest.mark.parametrize("name, index", [
    ("grants_gbp_per_100k", "idx_grants_indicator_window"),
    ("covid_grants_gbp_per_100k", "idx_grants_covid"),
    ("pubs_per_100k", "idx_pubs_kind_indicators"),
    ("social_clubs_per_100k", "idx_pubs_kind_indicators"),
])
def test_tallies_read_covering_indexes(fresh_db, name, index):
    ind = BY_NAME[name]
    scoped = " AND r.scope IN (SELECT value FROM json_each(:scopes))" if ind.source == "fhrs_pubs" else ""
    sql = tally_query(SOURCES[ind.source], ind.condition, [ind], scoped)
    params = {"source": ind.source, "window_from": "2023-07-01", "window_end": "2024-07-01", "scopes": "[]"}
    plan = " ".join(r[3] for r in fresh_db.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall())
    assert f"COVERING INDEX {index}" in plan
