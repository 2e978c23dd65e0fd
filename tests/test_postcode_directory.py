"""The local postcode directory: loaded from a file or a local URL, asked first, postcodes.io only for the rest."""
from __future__ import annotations

import csv
import gzip
import json
import socket
from pathlib import Path

import pytest

from core.config import load
from core.errors import InputError
from db.postcode_directory import directory_ward, load_directory
from db.resolver import Query, Resolution, Resolver
from monitor.commands.init import load_postcodes
from spiders.replay import postcode_directory as demo_build
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer, Response

NOW = "2024-05-01T09:00:00+00:00"
LOOKUP = Path(__file__).resolve().parents[1] / "db" / "reference" / "raw" / "lookup_lsoa11_ward17.csv"
# ONSPD's own column order (a few of its 50-odd columns), values from the bundled NSPL sample rows, and rows that
# must be refused. `extra` stands for every column the loader does not read.
ONSPD = """pcd,pcd2,pcds,dointr,doterm,oscty,lsoa11,msoa11,lat,long,extra
EX364AT ,EX36  4AT,EX36 4AT,198001,,E10000008,E01020135,E02004187,51.01467,-3.83317,x
NG7 3LF ,NG7  3LF,NG7 3LF,198001,200901,E10000024,E01013860,E02002846,52.959917,-1.222127,x
CW6 9AE ,CW6  9AE,CW6 9AE,198001,,E06000050,,,53.165647,-2.641469,x
LE3 3PZ ,LE3  3PZ,LE3 3PZ,198001,,E06000016,,,99.999999,0.000000,x
NOTAPC  ,NOTAPC,NOT A POSTCODE,198001,,,E01020135,,51.0,-3.8,x
PO141NT ,PO14 1NT,PO14 1NT,198001,,,E01022735,,fifty,-1.195879,x
PO141NU ,PO14 1NU,PO14 1NU,198001,2009x,,E01022735,,50.851871,-1.195879,x
LE3 3PY ,LE3  3PY,LE3 3PY,198001,,E06000016,E01025638
"""


def ward_of_lsoa(code: str) -> str:
    """The ONS best-fit lookup's ward for an LSOA, read from the raw file (not through the code under test)."""
    with open(LOOKUP, newline="", encoding="utf-8") as f:
        return next(r["ward17_code"] for r in csv.DictReader(f) if r["lsoa11_code"] == code)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()       # nothing listens there now: a request to it is refused at once
    return port


class Stats:
    """Scrapy's stats collector's inc_value, for a pipeline step called on its own."""

    def __init__(self):
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, n: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + n


def offline_settings(**extra) -> dict:
    settings = load(environ={"LBM_POSTCODES_URL": f"http://127.0.0.1:{closed_port()}"})
    settings.update(http_backoff=0.001, http_retries=0, **extra)
    return settings


@pytest.fixture
def directory_file(tmp_path) -> Path:
    path = tmp_path / "ONSPD_sample.csv"
    path.write_text(ONSPD, encoding="utf-8")
    return path


def test_a_file_loads_its_good_rows_and_quarantines_the_malformed(fresh_db, directory_file):
    counts = load_directory(fresh_db, directory_file, NOW)
    rows = {r[0]: r[1:] for r in fresh_db.execute("select * from postcode_directory")}
    assert rows == {
        "EX36 4AT": ("E01020135", 51.01467, -3.83317, None),
        "NG7 3LF": ("E01013860", 52.959917, -1.222127, "2009-01"),
        "CW6 9AE": (None, 53.165647, -2.641469, None),
        "LE3 3PZ": (None, None, None, None),            # ONSPD's placeholder: no point, not the Gulf of Guinea
    }
    assert (counts["rows"], counts["loaded"], counts["terminated"], counts["quarantined"]) == (8, 4, 1, 4)
    kept = sorted(fresh_db.execute("select ref, reason from quarantine where source = 'postcode_directory'"))
    assert kept == [("LE3 3PY", "fewer cells than the header"), ("NOT A POSTCODE", "invalid postcode"),
                    ("PO14 1NT", "coordinates are not numbers"), ("PO14 1NU", "invalid termination date")]


def test_a_load_replaces_the_directory_before_it(fresh_db, directory_file, tmp_path):
    load_directory(fresh_db, directory_file, NOW)
    smaller = tmp_path / "smaller.csv.gz"
    smaller.write_bytes(gzip.compress(b"pcds,lsoa11,lat,long,doterm\nIG10 1PZ,E01021786,51.652915,0.069873,\n"))
    assert load_directory(fresh_db, smaller, NOW)["loaded"] == 1
    assert [r[0] for r in fresh_db.execute("select postcode from postcode_directory")] == ["IG10 1PZ"]


def test_a_file_without_the_onspd_columns_is_refused_in_one_sentence_and_the_old_directory_kept(fresh_db, tmp_path,
                                                                                                directory_file):
    load_directory(fresh_db, directory_file, NOW)
    bad = tmp_path / "bad.csv"
    bad.write_text("postcode,latitude,longitude\nEX36 4AT,51.0,-3.8\n", encoding="utf-8")
    with pytest.raises(InputError, match="no pcds, lsoa11, lat, long, doterm column"):
        load_directory(fresh_db, bad, NOW)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gzip.compress(ONSPD.encode() * 50)[:400])         # a download cut short
    with pytest.raises(InputError, match="cut.csv.gz could not be read as a postcode directory"):
        load_directory(fresh_db, cut, NOW)
    assert fresh_db["postcode_directory"].count == 4


def test_a_local_url_loads_streamed_and_a_private_address_is_refused_unless_allowed(fresh_db, tmp_path):
    body = gzip.compress(ONSPD.encode())
    served = lambda req: Response(200, body, {"Content-Type": "application/gzip"})  # noqa: E731
    moved = lambda req: Response(302, b"", {"Location": "/onspd.csv.gz"})  # noqa: E731
    with ReplayServer(routes=[("GET", r"/onspd.csv.gz", served), ("GET", r"/latest", moved)]) as server:
        host = server.url.split("://", 1)[1].rstrip("/")
        with pytest.raises(InputError, match="private, loopback"):
            load_postcodes(fresh_db, f"{server.url}/latest", offline_settings(), NOW, tmp_path)
        assert fresh_db["postcode_directory"].count == 0 and server.log == []
        counts = load_postcodes(fresh_db, f"{server.url}/latest", offline_settings(allow_private_addresses=[host]),
                                NOW, tmp_path)
    assert (counts["loaded"], counts["quarantined"]) == (4, 4)
    assert fresh_db.execute("select source from postcode_directory_loads").fetchone()[0].endswith("/latest")
    assert list(tmp_path.glob("postcodes-*")) == []          # the downloaded copy is gone


def test_a_terminated_postcode_resolves_to_where_it_last_was_without_postcodes_io(fresh_db, directory_file):
    load_directory(fresh_db, directory_file, NOW)
    resolver = Resolver(fresh_db, offline_settings())
    answers = resolver.resolve_many([Query(postcode="NG7 3LF"), Query(postcode="cw69ae"),
                                     Query(postcode="LE3 3PZ")], now=NOW)
    assert answers[0] == Resolution(ward_of_lsoa("E01013860"), "postcode")
    # CW6 9AE has a point and no LSOA: placed by its point; the NSPL row's own LSOA says which ward that is.
    assert answers[1] == Resolution(ward_of_lsoa("E01018725"), "postcode")
    assert answers[2] == Resolution(None, None, "postcode has no location")
    assert resolver.counts["postcode/directory"] == 3 and resolver.counts["postcode/directory_terminated"] == 1
    assert resolver.counts["postcode/postcodes_io"] == 0 and resolver.counts["postcode/lookup_failed"] == 0


def test_a_postcode_the_directory_lacks_goes_to_postcodes_io_in_one_bulk_request(fresh_db, directory_file,
                                                                                 replay_server):
    load_directory(fresh_db, directory_file, NOW)
    (method, pattern, bulk), *others = postcodes_io.routes()
    asked = []

    def noting(req):
        asked.append(json.loads(req.body)["postcodes"])
        return bulk(req)
    server = replay_server((method, pattern, noting), *others, postcodes=False)
    resolver = Resolver(fresh_db, load(environ={"LBM_POSTCODES_URL": server.url}))
    answers = resolver.resolve_many([Query(postcode="EX36 4AT"), Query(postcode="IG10 1PZ"),
                                     Query(postcode="EX36 9ZZ")], now=NOW)
    assert answers == [Resolution(ward_of_lsoa("E01020135"), "postcode"),
                       Resolution(ward_of_lsoa("E01021786"), "postcode"),   # IG10 1PZ's NSPL LSOA
                       Resolution(None, None, "postcode not found")]
    assert [(m, path) for m, path, _ in server.log] == [("POST", "/postcodes")]
    assert [sorted(a) for a in asked] == [["EX36 9ZZ", "IG10 1PZ"]]
    assert resolver.counts["postcode/directory"] == 1 and resolver.counts["postcode/postcodes_io"] == 1


def test_the_ward_search_reads_the_directory(fresh_db, directory_file):
    load_directory(fresh_db, directory_file, NOW)
    assert directory_ward(fresh_db.conn, "NG7 3LF") == (True, ward_of_lsoa("E01013860"))
    assert directory_ward(fresh_db.conn, "CW6 9AE") == (True, ward_of_lsoa("E01018725"))
    assert directory_ward(fresh_db.conn, "IG10 1PZ") == (False, None)


def test_the_demo_directory_is_what_its_build_makes_and_loads_whole(fresh_db, tmp_path):
    rebuilt = tmp_path / "demo_onspd.csv"
    demo_build.write(rebuilt)
    assert rebuilt.read_bytes() == demo_build.OUT.read_bytes()
    counts = load_directory(fresh_db, demo_build.OUT, NOW)
    with open(demo_build.OUT, newline="", encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    assert counts["quarantined"] == 0 and counts["loaded"] == len(lines) == len({r["pcds"] for r in lines})
    assert counts["terminated"] == 1                          # NG7 3LF, the NSPL sample's one terminated row


def test_the_crawl_stats_say_which_answered_each_postcode(fresh_db, directory_file, replay_server):
    from db.items import Record
    from spiders.pipelines.geomatch import resolve_items

    load_directory(fresh_db, directory_file, NOW)
    server = replay_server()
    stats = Stats()
    items = [Record("test", str(i), "a venue", postcode=pc) for i, pc in enumerate(("EX36 4AT", "NG7 3LF",
                                                                                   "IG10 1PZ"))]
    resolve_items(items, Resolver(fresh_db, load(environ={"LBM_POSTCODES_URL": server.url})), stats, now=NOW)
    got = {k: v for k, v in stats.values.items() if k.startswith("geo/postcode/")}
    assert got == {"geo/postcode/directory": 2, "geo/postcode/directory_terminated": 1,
                   "geo/postcode/postcodes_io": 1, "geo/postcode/lsoa": 3}
    assert [i.ward_code for i in items] == [ward_of_lsoa(c) for c in ("E01020135", "E01013860", "E01021786")]


def test_a_download_past_its_byte_limit_is_stopped(tmp_path):
    from core.errors import SourceError
    from spiders.reference_download import download

    body = ONSPD.encode() * 100
    with ReplayServer(routes=[("GET", r"/onspd.csv", lambda req: Response(200, body, {}))]) as server:
        settings = offline_settings(allow_private_addresses=True)
        with pytest.raises(SourceError, match="larger than 1,000 bytes"):
            download(f"{server.url}/onspd.csv", tmp_path / "d.csv", settings, max_bytes=1000)
        assert download(f"{server.url}/onspd.csv", tmp_path / "d.csv", settings, max_bytes=len(body)) == len(body)


def test_init_loads_the_directory_and_says_so_or_says_in_one_line_what_is_wrong(tmp_path, directory_file):
    from click.testing import CliRunner

    import run

    where = ["--db", str(tmp_path / "a.db"), "--private-db", str(tmp_path / "p.db")]
    missing = CliRunner().invoke(run.cli, [*where, "init", "--postcodes", str(tmp_path / "nowhere.csv")])
    assert missing.exit_code == 2 and "no such file" in missing.output and "Traceback" not in missing.output
    done = CliRunner().invoke(run.cli, [*where, "init", "--postcodes", str(directory_file)])
    assert done.exit_code == 0, done.output
    assert ("Postcode directory: 4 postcodes loaded from 8 rows (1 terminated, 1 without a location); "
            "4 malformed rows quarantined") in done.output
