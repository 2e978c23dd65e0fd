"""run.py events: filters, the people's table and the JSON keys."""
from __future__ import annotations

import json

from click.testing import CliRunner

import run  # noqa: F401  (registers the commands)
from monitor.commands.group import cli


def seed(db):
    ward = db.execute("select code from wards where left_behind = 1 limit 1").fetchone()[0]
    other = db.execute("select code from wards where left_behind = 0 limit 1").fetchone()[0]
    rows = [("closed", "fhrs_pubs", "1", "The Angel", ward, "2024-03-01T05:00:00", 3, {"rule": "missing"}, 0),
            ("new", "fhrs_pubs", "2", "Amiga", other, "2024-01-01T05:00:00", 1, {"rule": "first seen"}, 1),
            ("closed", "libraries", "x", "Pelsall Library", other, "2021-01-01T06:00:00", 2,
             {"year_closed": "2017"}, 0)]
    db["events"].insert_all([{"kind": k, "source": s, "ref": r, "name": n, "ward_code": w, "at": a, "crawl_id": c,
                              "evidence": json.dumps(e), "baseline": b, "record_id": f"{s}:{r}"}
                             for k, s, r, n, w, a, c, e, b in rows], pk="id")
    return ward


def invoke(db_path, *args):
    return CliRunner().invoke(cli, ["--db", str(db_path), "events", *args])


def test_json_keys_and_filters(fresh_db, db_path):
    ward = seed(fresh_db)
    out = json.loads(invoke(db_path, "--kind", "closed", "--json").output)
    assert [e["name"] for e in out] == ["The Angel", "Pelsall Library"]
    assert set(out[0]) == {"kind", "source", "ref", "name", "ward_code", "left_behind", "at", "crawl_id", "evidence"}
    assert out[0]["left_behind"] is True and out[0]["evidence"] == {"rule": "missing"}
    assert [e["ref"] for e in json.loads(invoke(db_path, "--source", "libraries", "--json").output)] == ["x"]
    assert [e["ref"] for e in json.loads(invoke(db_path, "--since", "2024-02-01", "--json").output)] == ["1"]
    assert [e["ref"] for e in json.loads(invoke(db_path, "--ward", ward, "--json").output)] == ["1"]


def test_table_for_people(fresh_db, db_path):
    seed(fresh_db)
    result = invoke(db_path)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "closed" in lines[0] and "The Angel" in lines[0] and "[left behind]" in lines[0] and "crawl 3" in lines[0]
    assert "baseline" in lines[1] and lines[-1] == "3 events."


def test_unknown_ward_is_a_one_line_error(fresh_db, db_path):
    result = invoke(db_path, "--ward", "E05999999")
    assert result.exit_code == 2 and "unknown ward code" in result.output
