import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.config import defaults
from core.errors import LockError
from db.store import init_private
from monitor.scheduling.lock import scheduler_lock
from monitor.scheduling.scheduler import build_scheduler

LONDON = ZoneInfo("Europe/London")
ROOT = Path(__file__).resolve().parent.parent


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


class Recorder:
    def __init__(self):
        self.calls: list[tuple[str, str]] = []

    def jobs(self, names):
        return {name: (lambda now, name=name: self.calls.append((name, now))) for name in names}


SETTINGS = {**defaults(), "schedule": {"fhrs_pubs": "0 5 * * *", "libraries": "30 5 * * *",
                                     "mutual_aid": "30 4 * * 0", "digest": "0 7 * * 1"},
            "misfire_grace_seconds": 3600}
NAMES = ("fhrs_pubs", "libraries", "mutual_aid", "digest")


def one_pass(settings, private_db_path, jobs, when: str) -> tuple[dict, list[str], dict]:
    """`schedule --once` at a wall-clock time: next runs after syncing, the jobs run, next runs after the pass."""
    with time_machine.travel(at(when), tick=False):
        loop = build_scheduler(settings, private_db_path, jobs=jobs, once=True)
        before = loop.start()
        ran = loop.run_once()
    return before, ran, loop.next_runs()


def runs(private_db_path, since_id: int = 0) -> list[tuple]:
    return [(r["job"], r["status"], r["scheduled_for"]) for r in
            init_private(private_db_path).query("select * from job_runs where id > ? order by id", [since_id])]


def test_due_jobs_run_once_and_missed_runs_coalesce_after_restart(private_db_path):
    init_private(private_db_path)
    rec = Recorder()
    nxt, ran, _ = one_pass(SETTINGS, private_db_path, rec.jobs(NAMES), "2024-03-04T04:00")   # a Monday
    assert ran == [] and nxt["fhrs_pubs"] == at("2024-03-04T05:00") and nxt["digest"] == at("2024-03-04T07:00")
    assert one_pass(SETTINGS, private_db_path, rec.jobs(NAMES), "2024-03-04T04:30")[1] == []
    assert one_pass(SETTINGS, private_db_path, rec.jobs(NAMES), "2024-03-04T05:10")[1] == ["fhrs_pubs"]
    assert rec.calls == [("fhrs_pubs", "2024-03-04T05:10:00+00:00")]
    monday = len(runs(private_db_path))

    # The machine is off until Thursday 05:20. A new process: next-run times come from the database.
    rec2 = Recorder()
    kept, ran, after = one_pass(SETTINGS, private_db_path, rec2.jobs(NAMES), "2024-03-07T05:20")
    assert kept["fhrs_pubs"] == at("2024-03-05T05:00")   # not reset by the restart
    # fhrs_pubs missed Tue, Wed, Thu 05:00: one run (coalesced) for its latest time, 20 minutes ago, within the
    # hour's grace. libraries missed Mon..Wed 05:30, the latest a day ago: beyond the grace, skipped and recorded
    # once. digest: Monday 07:00, past the grace.
    assert ran == ["fhrs_pubs"]
    assert [c[0] for c in rec2.calls] == ["fhrs_pubs"]
    assert after["fhrs_pubs"] == at("2024-03-08T05:00")
    assert after["libraries"] == at("2024-03-07T05:30")
    assert after["digest"] == at("2024-03-11T07:00")
    assert sorted(runs(private_db_path, monday)) == [
        ("digest", "missed", "2024-03-04T07:00:00+00:00"), ("fhrs_pubs", "ok", "2024-03-07T05:00:00+00:00"),
        ("libraries", "missed", "2024-03-06T05:30:00+00:00")]


def test_runs_missed_within_the_grace_coalesce_into_one(private_db_path):
    init_private(private_db_path)
    settings = {**SETTINGS, "schedule": {"outbox": "*/15 * * * *"}}
    rec = Recorder()
    assert one_pass(settings, private_db_path, rec.jobs(["outbox"]), "2024-03-04T10:05")[0] == \
        {"outbox": at("2024-03-04T10:15")}
    # Off from 10:05 to 10:50: 10:15, 10:30 and 10:45 were missed, all within the hour's grace: one run.
    _, ran, after = one_pass(settings, private_db_path, rec.jobs(["outbox"]), "2024-03-04T10:50")
    assert ran == ["outbox"] and rec.calls == [("outbox", "2024-03-04T10:50:00+00:00")]
    assert runs(private_db_path) == [("outbox", "ok", "2024-03-04T10:45:00+00:00")]
    assert after == {"outbox": at("2024-03-04T11:00")}


def test_every_job_sets_coalesce_max_instances_and_grace(private_db_path):
    init_private(private_db_path)
    loop = build_scheduler(SETTINGS, private_db_path, jobs=Recorder().jobs(NAMES), once=True)
    loop.start()
    jobs = loop.scheduler.get_jobs(jobstore="default")
    loop.close()
    assert {j.id for j in jobs} == set(NAMES)
    for job in jobs:
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 3600
        assert str(job.trigger.timezone) == "Europe/London"


def test_changed_cron_replaces_the_job_and_removed_jobs_go(private_db_path):
    init_private(private_db_path)
    one_pass(SETTINGS, private_db_path, Recorder().jobs(NAMES), "2024-03-04T04:00")          # Monday
    changed = {**SETTINGS, "schedule": {**SETTINGS["schedule"], "fhrs_pubs": "15 6 * * *"},
               "misfire_grace_seconds": 7200}
    with time_machine.travel(at("2024-03-04T08:00"), tick=False):   # only synced here, not run
        loop = build_scheduler(changed, private_db_path, jobs=Recorder().jobs(("fhrs_pubs", "digest")), once=True)
        nxt = loop.start()
        graces = {j.id: j.misfire_grace_time for j in loop.scheduler.get_jobs(jobstore="default")}
        loop.close()
    assert set(nxt) == {"fhrs_pubs", "digest"}
    assert nxt["fhrs_pubs"] == at("2024-03-05T06:15")     # its new cron, from now
    assert nxt["digest"] == at("2024-03-04T07:00")        # unchanged cron: its stored time (due), the grace updated
    assert graces == {"fhrs_pubs": 7200, "digest": 7200}


def test_failing_job_is_recorded_and_others_still_run(private_db_path):
    init_private(private_db_path)
    calls = []

    def boom(now):
        raise RuntimeError("source down")

    jobs = {"fhrs_pubs": boom, "libraries": lambda now: calls.append(now)}
    one_pass(SETTINGS, private_db_path, jobs, "2024-03-04T04:00")
    assert one_pass(SETTINGS, private_db_path, jobs, "2024-03-04T05:40")[1] == ["fhrs_pubs", "libraries"]
    assert calls == ["2024-03-04T05:40:00+00:00"]
    db = init_private(private_db_path)
    failed = next(db.query("select * from job_runs where job = 'fhrs_pubs'"))
    assert failed["status"] == "failed" and "source down" in failed["detail"]
    beat = db["heartbeat"].get("scheduler")
    assert beat["job"] == "libraries" and beat["status"] == "ok"


def test_second_scheduler_refuses_with_one_line(tmp_path):
    private = tmp_path / "private.db"
    with scheduler_lock(private):
        with pytest.raises(LockError, match=r"another scheduler is running on .*private\.db \(pid \d+\)"):
            with scheduler_lock(private):
                pass
        env = {**os.environ, "LBM_PRIVATE_DB": str(private), "LBM_DB": str(tmp_path / "pub.db")}
        proc = subprocess.run([sys.executable, "run.py", "schedule", "--once"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("Error: another scheduler is running on")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_sigterm_finishes_the_running_job_then_exits(private_db_path):
    init_private(private_db_path)
    events = []

    def slow(now):
        events.append("start")
        time.sleep(1.0)
        events.append("end")

    settings = {**SETTINGS, "schedule": {"fhrs_pubs": "* * * * *"}}
    loop = build_scheduler(settings, private_db_path, jobs={"fhrs_pubs": slow})
    with time_machine.travel(datetime.now(LONDON) - timedelta(seconds=61)):
        loop.start()                               # its next run is already due when the loop runs: it starts at once

    def terminate_when_started():
        deadline = time.monotonic() + 10
        while "start" not in events and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_when_started, daemon=True).start()
    loop.run_forever()
    assert events == ["start", "end"]
    beat = init_private(private_db_path)["heartbeat"].get("scheduler")
    assert beat["status"] == "stopped"
    run = next(init_private(private_db_path).query("select * from job_runs"))
    assert run["status"] == "ok" and run["finished_at"]


@pytest.mark.parametrize("cron,expected", [
    ("0 7 * * 1", "0 7 * * mon"), ("0 4 * * 0", "0 4 * * sun"), ("0 4 * * 7", "0 4 * * sun"),
    ("0 5 * * *", "0 5 * * *"), ("0 5 * * 1-5", "0 5 * * mon-fri"), ("0 5 * * 1,3", "0 5 * * mon,wed"),
    ("0 5 * * mon", "0 5 * * mon")])
def test_cron_day_numbers_mean_what_cron_means(cron, expected):
    from monitor.scheduling.cron import crontab_days_as_names
    assert crontab_days_as_names(cron) == expected
