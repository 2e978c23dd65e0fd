"""`run.py resolve`: one location as JSON, a CSV with the wards added, and the errors a person sees."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.errors import InputError
from db.store import connect
from monitor.commands.resolve import query_columns
from run import cli
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer

FIXTURES = Path(__file__).parent / "fixtures" / "postcodes_io"


@pytest.fixture(scope="module")
def server():
    with ReplayServer(routes=postcodes_io.routes()) as srv:
        yield srv


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    """One public database for the module: loading the reference geography takes a second."""
    folder = tmp_path_factory.mktemp("resolve")
    return folder / "leftbehind.db", folder / "private.db"


@pytest.fixture
def run(server, paths):
    def invoke(*args):
        env = {"LBM_POSTCODES_URL": server.url, "LBM_DB": str(paths[0]), "LBM_PRIVATE_DB": str(paths[1])}
        return CliRunner().invoke(cli, ["resolve", *args], env=env)
    return invoke


@pytest.mark.parametrize("args, expected", [
    (["--postcode", "EX36 4AT"], {"ward_code": "E05003557", "ward_name": "South Molton", "lad_code": "E07000043",
                                  "left_behind": False, "other_deprived": False, "method": "postcode"}),
    (["--lat", "51.01467", "--lng", "-3.83317"], {"ward_code": "E05003557", "method": "point"}),
    (["--lsoa", "E01021786"], {"ward_code": "E05004164", "lad_code": "E07000072", "method": "lsoa"}),
    (["--ward", "E05012435"], {"ward_code": "E05003557", "method": "ward_alias"}),
    (["--place", "Londonthorpe"], {"ward_code": "E05010171", "lad_code": "E07000141", "method": "place"}),
    (["--postcode", "SW1A OAA"], {"ward_code": None, "ward_name": None, "left_behind": None, "method": None,
                                  "reason": "invalid postcode"}),
    (["--lat", "55.9533", "--lng", "-3.1883"], {"ward_code": None, "reason": "outside England"}),
])
def test_one_location_prints_one_json_object(run, args, expected):
    result = run(*args)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert {k: printed[k] for k in expected} == expected
    assert {"ward_code", "ward_name", "lad_code", "left_behind", "other_deprived", "method"} <= printed.keys()
    assert ("reason" in printed) == (printed["ward_code"] is None)


def test_a_left_behind_ward_says_so(run, paths):
    run("--lsoa", "E01021786")      # creates the database
    code, lsoa = connect(paths[0]).execute(
        "select w.code, l.code from wards w join lsoas l on l.ward_code = w.code where w.left_behind = 1 "
        "order by l.code limit 1").fetchone()
    printed = json.loads(run("--lsoa", lsoa).output)
    assert printed["ward_code"] == code and printed["left_behind"] is True and printed["other_deprived"] is False


def test_csv_gets_the_ward_columns(run):
    result = run("--input", str(FIXTURES / "locations.csv"))
    assert result.exit_code == 0, result.output
    expected = (FIXTURES / "locations_resolved.csv").read_text(encoding="utf-8")
    assert result.output == expected, f"new output, review it as a diff:\n{result.output}"


@pytest.mark.parametrize("args, message", [
    (["--lat", "51.0"], "give both --lat and --lng"),
    ([], "give one location"),
    (["--postcode", "EX36 4AT", "--input", __file__], "give one location"),
])
def test_bad_arguments_are_one_line_errors(run, args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and message in result.output


def test_csv_without_location_columns_is_refused(run, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("name,town\nA,B\n", encoding="utf-8")
    result = run("--input", str(path))
    assert result.exit_code == 2 and "needs lat and lng, postcode, lsoa or place columns" in result.output


def test_postcodes_io_down_is_a_one_line_error(run, server):
    server.set_fault("/postcodes", status=503)
    try:
            result = run("--postcode", "EX36 4DZ")     # not cached yet
    finally:
        server.clear_faults()
    assert result.exit_code == 2
    assert result.output.startswith("Error: postcodes.io failed POST /postcodes after")


@pytest.mark.parametrize("header, expected", [
    (["Lat", "LNG"], {"lat": "Lat", "lng": "LNG"}),
    (["latitude", "Longitude", "Postcode"], {"lat": "latitude", "lng": "Longitude", "postcode": "Postcode"}),
    (["LSOA11CD"], {"lsoa_code": "LSOA11CD"}),
])
def test_query_columns_ignore_case(header, expected):
    assert query_columns(header) == expected


def test_query_columns_need_both_coordinates():
    with pytest.raises(InputError):
        query_columns(["lat", "name"])
