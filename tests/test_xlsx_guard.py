"""XLSX files are checked before openpyxl opens them: compression bombs and shared-string floods are refused."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from spiders.sources.threesixty_giving.grants_table import xlsx_grants
from spiders.sources.threesixty_giving.replay import HERE
from spiders.xlsx_guard import Limits, check_xlsx
from tests.crawling import replay_env

REAL = HERE / "360giving-sample.xlsx"


def workbook_with_shared_strings(n: int, declare: bool = True) -> bytes:
    """A minimal XLSX whose shared-strings part holds n strings (the 545 MB bomb had two million)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>')
        counts = f' count="{n}" uniqueCount="{n}"' if declare else ""
        body = "".join(f"<si><t>{i}</t></si>" for i in range(n))
        z.writestr("xl/sharedStrings.xml", f'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                   f'spreadsheetml/2006/main"{counts}>{body}</sst>')
    return buf.getvalue()


def test_the_real_sample_passes_and_still_reads():
    check_xlsx(io.BytesIO(REAL.read_bytes()))
    assert len(list(xlsx_grants(REAL))) > 0


@pytest.mark.parametrize("declare", [True, False])
def test_two_million_shared_strings_are_refused_before_opening(declare):
    bomb = workbook_with_shared_strings(2_000_000, declare)
    assert len(bomb) < 20 * 1024 * 1024
    with pytest.raises(ValueError, match="shared strings|expands"):
        list(xlsx_grants(bomb))


def test_a_compression_bomb_part_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    with pytest.raises(ValueError, match="expands .* times"):
        check_xlsx(io.BytesIO(buf.getvalue()))


def test_limits_name_the_part_and_the_numbers():
    with pytest.raises(ValueError, match=r"1,001 shared strings \(limit 1,000\)"):
        check_xlsx(io.BytesIO(workbook_with_shared_strings(1001)), Limits(max_shared_strings=1000))
    with pytest.raises(ValueError, match="not an XLSX"):
        check_xlsx(io.BytesIO(b"this is not a zip"))


def test_the_bomb_through_a_crawl_under_a_memory_ceiling_is_an_unhealthy_scope(tmp_path):
    """The 360Giving spider gets the bomb from a publisher: refused, reported, nothing stored, no crash."""
    from core.config import load
    from db.store import connect
    from monitor.changes.crawl import run_crawl
    from spiders.replay import postcodes_io
    from spiders.replay.server import ReplayServer, Response
    from spiders.sources.threesixty_giving.replay import build_routes, recorded
    from tests.replay_crawl import write_config

    registry, _ = recorded()
    entry = json.loads(json.dumps(registry[0]))
    entry["distribution"][0]["downloadURL"] = "/bomb.xlsx"
    bomb = workbook_with_shared_strings(2_000_000)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    routes = build_routes([entry], []) + [("GET", "/bomb.xlsx", lambda req: Response(200, bomb, {
        "Content-Type": xlsx}))] + postcodes_io.routes()
    config = write_config(tmp_path / "c.toml", crawl_memory_mb=1024)
    with ReplayServer(routes=routes) as server:
        env = replay_env(server)
        result = run_crawl("threesixty_giving", tmp_path / "db.sqlite", load(config), "2024-06-01T00:00:00",
                           start_url=server.url + "/data.json", config_path=config, extra_env=env, timeout=120)
    db = connect(tmp_path / "db.sqlite")
    assert result.status == "failed"
    assert "XLSX refused: 2,000,000 shared strings" in result.reason
    assert db["grants"].count == 0
