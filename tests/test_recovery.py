"""Run as cron does, and after kill -9: absolute paths, failures that exit non-zero, nothing left half-done."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import load
from db.store import init_private, init_public
from monitor.changes.closures import apply_crawl
from monitor.changes.crawl import recover_stale_crawls, run_crawl
from spiders.replay.catalogue import replay_server
from spiders.replay.snapshots import ReplayClock
from tests.crawling import FAST, replay_env

ROOT = Path(__file__).resolve().parent.parent


def cron_config(path: Path, mutual_aid_url: str) -> Path:
    path.write_text(f'''enabled_sources = ["mutual_aid"]
allow_private_addresses = true
[start_urls]
mutual_aid = "{mutual_aid_url}"
[schedule]
mutual_aid = "0 5 * * *"
digest = "0 7 * * 1"
outbox = "0 8 * * *"
[frozen_sources]
mutual_aid = false
''', encoding="utf-8")   # mutual aid, archived by its spider, stands here for any live source
    return path


def run_cron(cwd: Path, server, now: str, *extra) -> subprocess.CompletedProcess:
    """`python /path/to/run.py --db rel.db ... schedule --once`, from a directory that is not the repository, with
    the wall clock at `now` (the replayed data is dated 2020)."""
    env = {**os.environ, **replay_env(server)}
    args = [sys.executable, str(ROOT / "tests" / "at_time.py"), now, "--", str(ROOT / "run.py"),
            "--db", "data/public.db", "--private-db", "data/private.db", "--config", "cron.toml", *extra,
            "schedule", "--once"]
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def server():
    with replay_server(ReplayClock("2020-06-29")) as s:
        yield s


def test_cron_from_another_directory_with_relative_paths_crawls(tmp_path, server):
    (tmp_path / "data").mkdir()
    cron_config(tmp_path / "cron.toml", server.url + "/api/group/get")
    first = run_cron(tmp_path, server, "2020-06-29T04:00:00+01:00")       # schedules the jobs
    assert first.returncode == 0, first.stderr
    second = run_cron(tmp_path, server, "2020-06-29T05:01:00+01:00")      # the mutual aid crawl is due
    assert second.returncode == 0, second.stderr
    assert "Ran 1 due job(s): mutual_aid." in second.stdout
    db = init_public(tmp_path / "data" / "public.db")
    run = db.execute("select status, items from crawl_runs").fetchone()
    assert run[0] == "ok" and run[1] > 0
    assert db["groups"].count == run[1]
    assert not (ROOT / "data" / "public.db").exists()                     # nothing written in the repository
    jobs = list(init_private(tmp_path / "data" / "private.db").query("select job, status from job_runs"))
    assert jobs == [{"job": "mutual_aid", "status": "ok"}]


def test_a_failing_crawl_is_a_failed_job_and_a_non_zero_exit(tmp_path, server):
    (tmp_path / "data").mkdir()
    cron_config(tmp_path / "cron.toml", server.url + "/no/such/path")    # 404: the crawl fails
    assert run_cron(tmp_path, server, "2020-06-29T04:00:00+01:00").returncode == 0
    result = run_cron(tmp_path, server, "2020-06-29T05:01:00+01:00")
    assert result.returncode == 1
    assert "1 job(s) failed: mutual_aid" in result.stderr
    job = init_private(tmp_path / "data" / "private.db").execute(
        "select status, detail from job_runs").fetchone()
    assert job[0] == "failed" and "HTTP 404" in job[1]


def test_job_runs_left_running_by_a_killed_scheduler_are_closed_at_start(tmp_path, server):
    (tmp_path / "data").mkdir()
    cron_config(tmp_path / "cron.toml", server.url + "/api/group/get")
    private = init_private(tmp_path / "data" / "private.db")
    private["job_runs"].insert({"job": "mutual_aid", "scheduled_for": None, "started_at": "2020-06-28T05:00:00",
                                "status": "running", "detail": ""}, alter=True)
    result = run_cron(tmp_path, server, "2020-06-29T04:00:00+01:00")
    assert result.returncode == 0 and "Recovered 1 job run(s)" in result.stderr
    row = private.execute("select status, detail from job_runs").fetchone()
    assert row[0] == "failed" and row[1].startswith("interrupted")


def test_a_crawl_whose_process_died_is_judged_unhealthy_and_changes_nothing(fresh_db):
    settings = load(None)
    crawl_id = fresh_db["crawl_runs"].insert({"source": "fhrs_pubs", "status": "running", "now": "2024-01-01",
                                              "started_at": "2024-01-01", "pid": 2 ** 22 + 7}).last_pk  # no such pid
    mine = fresh_db["crawl_runs"].insert({"source": "libraries", "status": "running", "now": "2024-01-01",
                                          "started_at": "2024-01-01", "pid": os.getpid()}).last_pk   # alive
    assert recover_stale_crawls(fresh_db, settings, "2024-01-02T00:00:00") == [crawl_id]
    row = fresh_db["crawl_runs"].get(crawl_id)
    assert row["status"] == "failed" and row["reason"].startswith("interrupted") and row["finished_at"]
    assert fresh_db["crawl_runs"].get(mine)["finished_at"] is None


def test_new_events_of_a_crawl_killed_before_its_events_come_with_the_next_crawl(tmp_path):
    """A healthy crawl whose process died between judging and deriving events: its new records are not lost."""
    settings = load(None)
    env = {"LBM_SCRAPY_SETTINGS": json.dumps(FAST)}
    db_path = tmp_path / "db.sqlite"
    clock = ReplayClock("2020-03-23")
    with replay_server(clock) as server:
        env["LBM_POSTCODES_URL"] = server.url
        url = server.url + "/api/group/get"
        first = run_crawl("mutual_aid", db_path, settings, "2020-03-30T00:00:00", start_url=url, extra_env=env)
        db = init_public(db_path)
        apply_crawl(db, first.crawl_id, settings, "2020-03-30T00:00:00")
        clock.date = "2020-06-29"
        second = run_crawl("mutual_aid", db_path, settings, "2020-06-29T00:00:00", start_url=url, extra_env=env)
        # ... killed here: apply_crawl never ran for the second crawl.
        third = run_crawl("mutual_aid", db_path, settings, "2020-07-06T00:00:00", start_url=url, extra_env=env)
        apply_crawl(db, third.crawl_id, settings, "2020-07-06T00:00:00")
    assert first.status == second.status == third.status == "ok"
    first_seen_in_second = db.execute("select count(*) from groups where first_crawl_id = ?",
                                      [second.crawl_id]).fetchone()[0]
    assert first_seen_in_second > 0
    new_in_third = db.execute("select count(*) from events where kind = 'new' and crawl_id = ? and record_id in "
                              "(select id from groups where first_crawl_id = ?)",
                              [third.crawl_id, second.crawl_id]).fetchone()[0]
    assert new_in_third == first_seen_in_second
    assert apply_crawl(db, third.crawl_id, settings, "2020-07-06T00:00:00") == []     # applying twice adds nothing


def _maildir(folder: Path) -> list:
    import email
    from email import policy
    new = folder / "new"
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(new.iterdir(), key=lambda p: p.stat().st_mtime)] if new.exists() else []


def test_the_operator_is_told_of_failures_by_mail_at_most_once_per_period(tmp_path, server):
    (tmp_path / "data").mkdir()
    config = cron_config(tmp_path / "cron.toml", server.url + "/no/such/path")
    text = config.read_text().replace("allow_private_addresses = true",
                                      'allow_private_addresses = true\noperator_email = "ops@example.org"\n'
                                      'maildir = "mail"\noperator_alert_hours = 6\nfailure_alert_after = 2')
    config.write_text(text.replace('mutual_aid = "0 5 * * *"', 'mutual_aid = "0 * * * *"'))
    assert run_cron(tmp_path, server, "2020-06-29T04:30:00+01:00").returncode == 0
    assert run_cron(tmp_path, server, "2020-06-29T05:01:00+01:00").returncode == 1    # fails: told at once
    [first] = _maildir(tmp_path / "mail")
    assert first["To"] == "ops@example.org" and "1 failed job(s)" in first["Subject"]
    assert "Job failed: mutual_aid" in first.get_body(("plain",)).get_content()
    assert first["List-Unsubscribe"] is None
    assert run_cron(tmp_path, server, "2020-06-29T06:01:00+01:00").returncode == 1    # fails again: held
    assert len(_maildir(tmp_path / "mail")) == 1
    assert run_cron(tmp_path, server, "2020-06-29T11:30:00+01:00").returncode == 1    # 6 h on: what waited
    second = _maildir(tmp_path / "mail")[1]
    body = second.get_body(("plain",)).get_content()
    # APScheduler takes due jobs by their stored next-run time: mutual_aid (missed since 07:00) ran before the
    # outbox (08:00), failed again, and the mail after it, the period being over, carried all that waited.
    assert "Job failed: mutual_aid at 2020-06-29T06:01" in body
    assert "Source failing: mutual_aid: 2 failed crawls in a row" in body
    assert "Job failed: mutual_aid at 2020-06-29T11:30" in body
    assert len(_maildir(tmp_path / "mail")) == 2
    from monitor.delivery.operator import pending
    assert pending(init_public(tmp_path / "data" / "public.db"),
                   init_private(tmp_path / "data" / "private.db")) == ([], [])


def test_status_shows_jobs_and_sources_and_exits_1_when_a_person_is_needed(tmp_path, server):
    (tmp_path / "data").mkdir()
    config = cron_config(tmp_path / "cron.toml", server.url + "/api/group/get")
    assert run_cron(tmp_path, server, "2020-06-29T04:00:00+01:00").returncode == 0
    assert run_cron(tmp_path, server, "2020-06-29T05:01:00+01:00").returncode == 0

    def status(*extra):
        args = [sys.executable, str(ROOT / "run.py"), "--db", "data/public.db", "--private-db", "data/private.db",
                "--config", "cron.toml", "status", "--now", "2020-06-29T05:30:00+00:00", *extra]
        return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    ok = status()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Nothing needs attention." in ok.stdout
    assert "mutual_aid         ok      last healthy 2020-06-29" in ok.stdout
    assert "next 2020-06-30T04:00" in ok.stdout                     # 05:00 London in summer is 04:00 UTC
    config.write_text(config.read_text().replace("/api/group/get", "/gone"))
    assert run_cron(tmp_path, server, "2020-06-30T05:01:00+01:00").returncode == 1
    bad = status("--json")
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["sources"][0]["failed_in_a_row"] == 1
    assert any(r.startswith("source mutual_aid: last crawl failed (mutual_aid: HTTP 404")
               for r in report["needs_attention"])
    assert "job mutual_aid: last run failed" in report["needs_attention"]
