"""`run.py indicators`: the table, JSON, a past computation, one ward."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from core.config import defaults
from monitor.indicators.compute import compute_and_store
from run import cli
from tests.indicator_records import DE_BRUCE, JESMOND, LEFT_BEHIND_POP, crawl, record


@pytest.fixture
def stored(fresh_db, db_path, private_db_path):
    """Two stored computations a week apart: one group in a left-behind ward, then two."""
    c = crawl(fresh_db, "mutual_aid", {"mutual_aid": True})
    record(fresh_db, "mutual_aid", DE_BRUCE, c)
    compute_and_store(fresh_db, "2024-06-01T07:00:00", defaults())
    c2 = crawl(fresh_db, "mutual_aid", {"mutual_aid": True})
    fresh_db.execute("UPDATE groups SET last_crawl_id = ?", [c2])
    record(fresh_db, "mutual_aid", JESMOND, c2)
    g = "threesixty_giving"
    c3 = crawl(fresh_db, g, {g: True})
    record(fresh_db, g, DE_BRUCE, c3, amount=505_484.0, currency="GBP", award_date="2020-05-01", covid=1)
    # Amounts chosen to reproduce the published COVID grants comparison (Local Trust, 2020).
    record(fresh_db, g, "E05000027", c3, amount=3_037_779.0, currency="GBP", award_date="2020-05-01", covid=1)
    record(fresh_db, g, "E05000026", c3, amount=30_404_530.0, currency="GBP", award_date="2020-05-01", covid=1)
    fresh_db.conn.commit()
    compute_and_store(fresh_db, "2024-06-08T07:00:00", defaults())
    return ["--db", str(db_path), "--private-db", str(private_db_path)]


def run(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_table_shows_the_latest_computation(stored):
    out = run(stored + ["indicators"])
    lines = out.splitlines()
    assert "computed 2024-06-08T07:00:00" in lines[0]
    assert lines[1].split() == ["per", "100,000", "people", "Left", "behind", "Other", "deprived", "England",
                                "LB", "/", "England"]
    groups = next(line for line in lines if line.startswith("mutual_aid_groups_per_100k")).split()
    assert groups[1] == f"{2e5 / LEFT_BEHIND_POP:.2f}*"         # 0.08 groups per 100k, from 2: too few to say
    assert groups[2] == "0.00*" and groups[3] == "0.00*"
    covid = next(line for line in lines if line.startswith("covid_grants_gbp_per_100k"))
    # One grant per group reproduces the published figures, but one grant says nothing: no bare ratio.
    assert covid.split()[1:4] == ["£21,182*", "£50,054*", "£60,312*"] and covid.endswith("too few to say")
    # one grant of £505,484: £21,182 per 100k ± 1.96 × £21,182 = £0 to £62,698
    assert "covid_grants_gbp_per_100k: £21,182 (£0 to £62,698) vs £60,312 (" in out
    pubs = next(line for line in lines if line.startswith("pubs_per_100k")).split()
    assert pubs[1:] == ["no", "data", "no", "data", "no", "data", "-"]
    assert "fhrs_pubs: 0 wards" in out and "no data: fhrs_pubs has no healthy crawl" in out


def test_json_rows_have_the_promised_keys(stored):
    rows = json.loads(run(stored + ["indicators", "--json"]))
    assert len(rows) == 30   # 10 indicators x 3 area groups
    assert all(set(r) == {"indicator", "area_group", "numerator", "population", "value", "ci_low", "ci_high",
                          "reliable", "note", "coverage", "computed_at"} for r in rows)
    lb = next(r for r in rows if (r["indicator"], r["area_group"]) == ("mutual_aid_groups_per_100k", "left_behind"))
    assert (lb["numerator"], lb["population"], lb["computed_at"]) == (2, LEFT_BEHIND_POP, "2024-06-08T07:00:00")
    assert lb["coverage"]["wards"] == 225


def test_at_shows_a_past_computation(stored):
    rows = json.loads(run(stored + ["indicators", "--json", "--at", "2024-06-07"]))
    lb = next(r for r in rows if (r["indicator"], r["area_group"]) == ("mutual_aid_groups_per_100k", "left_behind"))
    assert (lb["numerator"], lb["computed_at"]) == (1, "2024-06-01T07:00:00")
    same_day = run(stored + ["indicators", "--at", "2024-06-08"])
    assert "computed 2024-06-08T07:00:00" in same_day


def test_at_before_any_computation_is_a_one_line_error(stored):
    result = CliRunner().invoke(cli, stored + ["indicators", "--at", "2020-01-01"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: no indicators were computed at or before 2020-01-01"


def test_ward_beside_its_groups(stored):
    out = run(stored + ["indicators", "--ward", DE_BRUCE.lower()])
    lines = out.splitlines()
    assert lines[0] == f"Ward {DE_BRUCE} De Bruce (E06000001), 8,895 people; in: left behind, england"
    assert lines[1].split() == ["indicator", "This", "ward", "Left", "behind", "England"]
    groups = next(line for line in lines if line.startswith("mutual_aid_groups_per_100k")).split()
    # One group in the ward, two in all left-behind wards: each far under 20 records, too few to say (*).
    assert groups[1:] == [f"{1e5 / 8895:.1f}*", f"{2e5 / LEFT_BEHIND_POP:.2f}*", "0.00*"]
    # Garwood's published 95% limits for a count of 1 are 0.0253 to 5.572: per 100,000 of 8,895 people.
    assert f"  mutual_aid_groups_per_100k: 11.2 ({0.0253e5 / 8895:.2f} to {5.572e5 / 8895:.1f})" in lines
    pubs = next(line for line in lines if line.startswith("pubs_per_100k"))
    assert "not covered" in pubs
    # The only grants were awarded in 2020: the 12 months before June 2024 hold none, for the ward as for England.
    grants = next(line for line in lines if line.startswith("grants_gbp_per_100k"))
    assert grants.split(None, 1)[1].split() == ["none", "in", "window"] * 3


def test_ward_json_holds_the_ward_and_its_groups(stored):
    rows = json.loads(run(stored + ["indicators", "--ward", DE_BRUCE, "--json"]))
    assert {r["area_group"] for r in rows} == {f"ward:{DE_BRUCE}", "left_behind", "england"}
    mine = {r["indicator"]: r for r in rows if r["area_group"] == f"ward:{DE_BRUCE}"}
    covid = mine["covid_grants_gbp_per_100k"]     # one grant of £505,484: £505,484 ± 1.96 × £505,484, cut at 0
    assert covid["reliable"] is False and covid["note"] == "too few to say: 1 grant (fewer than 20)"
    assert covid["ci_low"] == 0.0
    assert covid["ci_high"] == pytest.approx(505_484 * (1 + 1.959964) * 1e5 / 8895, rel=1e-6)
    assert mine["pubs_per_100k"]["ci_low"] is None and mine["pubs_per_100k"]["reliable"] is False  # not covered


def test_at_with_ward_is_refused_not_mislabelled(stored):
    result = CliRunner().invoke(cli, stored + ["indicators", "--ward", DE_BRUCE, "--at", "2024-06-07"])
    assert result.exit_code == 2
    assert "--at cannot be combined with --ward" in result.output


def test_unknown_ward_is_a_one_line_error(stored):
    result = CliRunner().invoke(cli, stored + ["indicators", "--ward", "E05999999"])
    assert result.exit_code == 2
    assert "unknown ward code 'E05999999'" in result.output


def test_first_run_computes_and_stores(fresh_db, db_path, private_db_path):
    args = ["--db", str(db_path), "--private-db", str(private_db_path), "indicators"]
    out = run(args)
    assert "mutual_aid_groups_per_100k" in out and "no data" in out
    assert fresh_db["indicators"].count == 30
    run(args)
    assert fresh_db["indicators"].count == 30                    # the second run shows the stored one


def test_chosen_window_is_shown_not_stored(stored, fresh_db):
    before = fresh_db["indicators"].count
    out = run(stored + ["indicators", "--from", "2020-01-01", "--to", "2020-12-31"])
    assert "2020-01-01 to 2020-12-31: grants_gbp_per_100k, grants_count_per_100k, pub_closures_per_100k" in out
    grants = next(line for line in out.splitlines() if line.startswith("grants_count_per_100k")).split()
    assert grants[1] == f"{1e5 / LEFT_BEHIND_POP:.2f}*"
    assert fresh_db["indicators"].count == before


def test_bad_date_is_a_one_line_error(stored):
    result = CliRunner().invoke(cli, stored + ["indicators", "--at", "last week"])
    assert result.exit_code == 2
    assert "Invalid value for '--at': 'last week' is not a date like 2024-06-01" in result.output


def test_help_has_an_example():
    out = run(["indicators", "--help"])
    assert "Example: python run.py indicators" in out
