from click.testing import CliRunner

from db.store import init_public, ward_summary
from run import cli


def test_reference_totals(fresh_db):
    s = ward_summary(fresh_db)
    assert s["wards"] == 7427
    assert s["population"] == 56_286_961
    assert s["left_behind_wards"] == 225
    assert s["left_behind_population"] == 2_386_368
    assert s["other_deprived_wards"] == 525


def test_other_deprived_excludes_left_behind(fresh_db):
    both = fresh_db.execute("select count(*) from wards where left_behind and other_deprived").fetchone()[0]
    assert both == 0
    lb_in_decile = fresh_db.execute("select count(*) from wards where left_behind and most_deprived_10pc").fetchone()[0]
    assert lb_in_decile == 218


def test_init_twice_changes_nothing(tmp_path):
    runner = CliRunner()
    args = ["--db", str(tmp_path / "a.db"), "--private-db", str(tmp_path / "p.db"), "init"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    db = init_public(tmp_path / "a.db")
    before = {t: db[t].count for t in db.table_names()}
    second = runner.invoke(cli, args)
    assert second.exit_code == 0
    after = {t: db[t].count for t in db.table_names()}
    assert before == after
    assert "225 wards, 2,386,368 people" in second.output


def test_missing_config_is_one_line_error(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "init"])
    assert result.exit_code != 0
    assert "config file not found" in result.output
    assert "Traceback" not in result.output
