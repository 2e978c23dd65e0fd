import json

import pytest

from monitor.changes.crawl import run_crawl
from spiders.replay.catalogue import replay_server
from tests.crawling import replay_env, replay_settings


@pytest.fixture
def server():
    with replay_server() as s:
        s.clock.date = "2020-03-27"
        yield s


def _crawl(server, db_path, now, **kw):
    return run_crawl("mutual_aid", db_path, replay_settings(server), now,
                     start_url=server.url + "/api/group/get", extra_env=replay_env(server), **kw)


def test_healthy_crawl_records_run_stats_and_scope(server, db_path, fresh_db):
    result = _crawl(server, db_path, "2020-03-30T06:00:00")
    assert result.status == "ok"
    row = fresh_db["crawl_runs"].get(result.crawl_id)
    assert (row["status"], row["items"], row["new"]) == ("ok", 2790, 2790)
    stats = json.loads(row["stats"])
    assert stats["scope/mutual_aid/items"] == 2790
    assert stats["geo/method/point"] + stats["geo/unresolved"] == 2790
    scope = next(fresh_db["scope_runs"].rows_where("crawl_id = ?", [result.crawl_id]))
    assert (scope["scope"], scope["healthy"], scope["items"]) == ("mutual_aid", 1, 2790)
    assert ("GET", "/api/group/get", 200) in server.log


def test_http_500_is_a_failed_crawl_that_stores_nothing(server, db_path, fresh_db):
    server.set_fault("/api/group/get", status=500)
    result = _crawl(server, db_path, "2020-03-30T06:00:00")
    assert result.status == "failed"
    assert "HTTP 500" in result.reason
    assert fresh_db["groups"].count == 0
    assert len(server.requests("/api/group/get")) == 2    # one retry


def test_truncated_json_is_unhealthy(server, db_path, fresh_db):
    server.set_fault("/api/group/get", truncate=0.5)
    result = _crawl(server, db_path, "2020-03-30T06:00:00")
    assert result.status == "failed"
    assert "cannot parse" in result.reason


def test_crawl_timeout_is_recorded(server, db_path, fresh_db):
    server.set_fault("/api/group/get", delay=30)
    result = _crawl(server, db_path, "2020-03-30T06:00:00", timeout=4)
    assert result.status == "failed"
    assert "timeout" in result.reason
    assert fresh_db["crawl_runs"].get(result.crawl_id)["status"] == "failed"


def test_crawl_command_prints_one_summary_line(server, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from run import cli
    for key, value in replay_env(server).items():
        monkeypatch.setenv(key, value)
    args = ["--db", str(tmp_path / "a.db"), "--private-db", str(tmp_path / "p.db"), "crawl", "mutual_aid",
            "--start-url", server.url + "/api/group/get", "--now", "2020-03-30T06:00:00+00:00"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("mutual_aid: 2790 items, 2790 new, 0 changed, 0 unchanged, 0 quarantined, "
                                     "369 unresolved locations, 2790 events, 0 alerts; health ok")
    server.set_fault("/api/group/get", status=500)
    failed = CliRunner().invoke(cli, args)
    assert failed.exit_code == 1
    assert "health failed (mutual_aid: HTTP 500 from" in failed.output


def test_every_source_has_a_replay_start_url():
    from spiders.crawl import known_sources
    from spiders.replay.catalogue import start_urls

    urls = start_urls("http://127.0.0.1:1")
    assert set(urls) == set(known_sources())       # the demo never falls back to a live source
    assert all(url.startswith("http://127.0.0.1:1") for url in urls.values())


def test_what_an_unhealthy_crawl_wrote_is_provisional_until_a_healthy_crawl_sees_it(server, db_path, fresh_db):
    server.clock.date = "2020-06-29"                       # the wiki's CSV export: a truncated CSV still parses
    good = _crawl(server, db_path, "2020-06-29T06:00:00")
    assert good.status == "ok"
    server.set_fault("/api/group/get", truncate=0.5)
    cut = _crawl(server, db_path, "2020-07-06T06:00:00")
    server.clear_faults()
    assert cut.status == "failed"
    written = fresh_db.execute("select count(*), sum(provisional = ?) from groups where last_crawl_id = ?",
                               [cut.crawl_id, cut.crawl_id]).fetchone()
    assert written[0] > 0 and written[0] == written[1]     # every row it touched, the half-parsed last one too
    only_in_cut = fresh_db.execute("select id from groups where first_crawl_id = ?", [cut.crawl_id]).fetchall()
    assert len(only_in_cut) == 1                           # the row cut in half: a ref the real file never had
    again = _crawl(server, db_path, "2020-07-13T06:00:00")
    assert again.status == "ok"
    assert fresh_db.execute("select count(*) from groups where provisional is not null").fetchone()[0] == 0
    assert fresh_db["groups"].count == good.counts["items"]                 # the half-parsed row is gone
    assert fresh_db.execute("select count(*) from versions where record_id = ?", only_in_cut[0]).fetchone()[0] == 0
