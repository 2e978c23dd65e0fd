"""The number of left-behind wards in messages comes from the reference data, not from a constant."""
from __future__ import annotations

from click.testing import CliRunner

from db.store import left_behind_wards
from monitor.reports.digest import render_digest
from run import cli
from tests.test_digest import settings

NOW = "2024-03-11T07:00:00+00:00"


def drop_one_ward(db) -> None:
    """Mark one left-behind ward as not left behind, as a revised list would."""
    code = db.execute("select code from wards where left_behind order by code limit 1").fetchone()[0]
    db["wards"].update(code, {"left_behind": 0})


def test_count_is_the_published_list(fresh_db):
    assert left_behind_wards(fresh_db) == 225          # Local Trust (2020): 225 'left behind' wards
    drop_one_ward(fresh_db)
    assert left_behind_wards(fresh_db) == 224


def test_digest_and_subscription_follow_the_reference_data(fresh_db, db_path, private_db_path, tmp_path):
    drop_one_ward(fresh_db)
    _, html, _, _ = render_digest(fresh_db, settings(tmp_path), NOW)
    assert "England's 224 left-behind wards" in html and "the 224 left-behind wards</a>" in html
    assert "225" not in html
    base = ["--db", str(db_path), "--private-db", str(private_db_path)]
    out = CliRunner().invoke(cli, base + ["subscribe", "bob@example.org", "--left-behind"])
    assert "all 224 left-behind wards" in out.output, out.output
    assert "all 224 left-behind wards" in CliRunner().invoke(cli, base + ["subscriptions"]).output
