"""Parsers bounded: JSON nesting depth, XLSX sheets and total size. A refused file is quarantined with its reason,
its scope unhealthy, and nothing else changes: the grants a good crawl stored stay as they were, none closed."""
from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from core.config import load
from monitor.changes.crawl import run_crawl
from spiders.grants_json import check_depth, json_grants
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer, Response
from spiders.replay.threesixty_giving import build_routes, file_handler, recorded
from spiders.xlsx_guard import check_xlsx
from tests.bomb_crawl import SCRAPY
from tests.bomb_server import Answer, BombServer
from tests.peak_rss import PeakChildRSS
from tests.replay_crawl import crawl, events, write_config

MIB = 1 << 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def nested(depth: int) -> bytes:
    """A 360Giving package whose one grant holds arrays nested `depth` deep (the grant itself is 3 deep)."""
    return b'{"grants": [{"id": "deep", "x": ' + b"[" * depth + b"]" * depth + b"}]}"


def workbook(sheets: int) -> bytes:
    """A minimal XLSX listing `sheets` sheets, each a part of its own (the attack had 1,900 in 70 MB)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        listed = "".join(f'<sheet name="s{i}" sheetId="{i}" r:id="rId{i}"/>' for i in range(1, sheets + 1))
        z.writestr("xl/workbook.xml", f"<workbook><sheets>{listed}</sheets></workbook>")
        for i in range(1, sheets + 1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", "<worksheet><sheetData/></worksheet>")
    return buf.getvalue()


def test_depth_is_counted_before_anything_is_built():
    check_depth(io.BytesIO(b"[" * 64 + b"]" * 64))
    with pytest.raises(ValueError, match="nested deeper than 64 levels"):
        check_depth(io.BytesIO(b"[" * 65 + b"]" * 65))
    # A package the fast reader leaves to ijson (something after the grants), 100,000 deep: refused at once.
    with pytest.raises(ValueError, match="JSON refused: nested deeper than 64 levels"):
        list(json_grants(nested(100_000)[:-1] + b', "x": 1}'))


def test_an_xlsx_of_1900_sheets_is_refused():
    with pytest.raises(ValueError, match=r"XLSX refused: 1,900 sheets \(limit 100\)"):
        check_xlsx(io.BytesIO(workbook(1900)))
    check_xlsx(io.BytesIO(workbook(100)))


def test_an_xlsx_over_1_gib_uncompressed_is_refused():
    """1,100 parts of 1 MiB of zeros: each under the ratio check's 1 MiB floor, 5 MB zipped, 1.1 GiB unzipped."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for i in range(1100):
            z.writestr(f"xl/media/image{i}.bin", bytes(MIB))
    with pytest.raises(ValueError, match=r"1,153,433,600 bytes uncompressed \(limit 1,073,741,824\)"):   # 1,100 MiB
        check_xlsx(io.BytesIO(buf.getvalue()))


@pytest.mark.parametrize("kind", ["json", "xlsx"])
def test_a_refused_file_is_quarantined_and_changes_nothing_else(tmp_path, kind):
    registry, files = recorded()
    entry, good = registry[0], files[0]
    path = good.url_path.split("?")[0]
    bad = {"json": (nested(100_000), "application/json", "JSON refused: nested deeper than 64 levels"),
           "xlsx": (workbook(1900), XLSX, "XLSX refused: 1,900 sheets (limit 100)")}[kind]
    state = {"bad": False}

    def switchable(req):
        return Response(200, bad[0], {"Content-Type": bad[1]}) if state["bad"] else file_handler(good)(req)

    routes = [("GET", re.escape(path), switchable)] + build_routes([entry], [good]) + postcodes_io.routes()
    config = write_config(tmp_path / "c.toml", crawl_memory_mb=1536)
    with ReplayServer(routes=routes) as server:
        start = server.url + "/data.json"
        first, db, _ = crawl("threesixty_giving", tmp_path / "db.sqlite", server, "2024-06-01T00:00:00", config,
                             start_url=start)
        assert first.status == "ok"
        before = list(db.query("select * from grants order by id"))
        validators = list(db.query("select * from download_state"))
        assert len(before) > 0
        state["bad"] = True
        with PeakChildRSS() as rss:
            second, db, _ = crawl("threesixty_giving", tmp_path / "db.sqlite", server, "2024-06-08T00:00:00",
                                  config, start_url=start)
    print(f"{kind}: peak RSS {rss.peak_mb:.0f} MB: {second.reason}")
    assert second.status == "failed" and bad[2] in second.reason
    assert rss.peak_mb < 600
    scope = db.execute("select healthy, reason from scope_runs where crawl_id = ?", [second.crawl_id]).fetchone()
    assert scope[0] == 0 and bad[2] in scope[1]
    quarantined = list(db["quarantine"].rows_where("crawl_id = ?", [second.crawl_id]))
    assert [(q["ref"], bad[2] in q["reason"]) for q in quarantined] == [(server.url + path, True)]
    assert json.loads(quarantined[0]["raw"])["file"] == server.url + path
    # Nothing else: the stored grants as they were, no event, the file's validators those of the good crawl.
    assert list(db.query("select * from grants order by id")) == before
    assert list(db.query("select * from events where crawl_id = ?", [second.crawl_id])) == []
    assert events(db, second.crawl_id, "closed") == []
    assert list(db.query("select * from download_state")) == validators


def test_an_fsa_authorities_list_nested_100000_deep_is_a_parse_error(tmp_path):
    """Whole-document JSON (the FSA API) stops at Python's recursion limit: an error of its scope, said as such."""
    deep = b"[" * 100_000 + b"]" * 100_000
    config = write_config(tmp_path / "c.toml", crawl_memory_mb=1536)
    with BombServer({"/Authorities": Answer(200, {"Content-Type": "application/json"}, lambda: [deep])}) as server:
        env = {"LBM_SCRAPY_SETTINGS": json.dumps(SCRAPY), "LBM_POSTCODES_URL": server.url}
        result = run_crawl("fhrs_pubs", tmp_path / "db.sqlite", load(config), "2024-06-01T00:00:00",
                           start_url=server.url, config_path=config, extra_env=env, timeout=120)
    assert result.status == "failed" and "maximum recursion depth exceeded" in result.reason
