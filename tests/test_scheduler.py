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

from core.config import defaults
from core.errors import LockError
from db.store import init_private
from monitor.scheduling.scheduler import build_scheduler, scheduler_lock

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


def test_due_jobs_run_once_and_missed_runs_coalesce_after_restart(private_db_path):
    init_private(private_db_path)
    rec = Recorder()
    loop = build_scheduler(SETTINGS, private_db_path, jobs=rec.jobs(NAMES))
    nxt = loop.sync(at("2024-03-04T04:00"))       # a Monday
    assert nxt["fhrs_pubs"] == at("2024-03-04T05:00")
    assert nxt["digest"] == at("2024-03-04T07:00")
    assert loop.run_due(at("2024-03-04T04:30")) == []
    assert loop.run_due(at("2024-03-04T05:10")) == ["fhrs_pubs"]
    assert rec.calls == [("fhrs_pubs", "2024-03-04T05:10:00+00:00")]

    # The machine is off until Thursday 05:20. A new process: next-run times come from the database.
    rec2 = Recorder()
    loop2 = build_scheduler(SETTINGS, private_db_path, jobs=rec2.jobs(NAMES))
    kept = loop2.sync(at("2024-03-07T05:20"))
    assert kept["fhrs_pubs"] == at("2024-03-05T05:00")   # not reset by the restart
    ran = loop2.run_due(at("2024-03-07T05:20"))
    # fhrs_pubs missed Tue, Wed, Thu 05:00: one run (coalesced), its latest time is within the grace.
    # libraries missed Mon..Wed 05:30, the latest a day ago: beyond the grace, skipped. digest: Monday, past grace.
    assert ran == ["fhrs_pubs"]
    assert [c[0] for c in rec2.calls] == ["fhrs_pubs"]
    after = loop2.next_runs()
    assert after["fhrs_pubs"] == at("2024-03-08T05:00")
    assert after["libraries"] == at("2024-03-07T05:30")
    assert after["digest"] == at("2024-03-11T07:00")
    db = init_private(private_db_path)
    statuses = {(r["job"], r["status"]) for r in db["job_runs"].rows}
    assert ("libraries", "missed") in statuses and ("digest", "missed") in statuses
    assert ("fhrs_pubs", "ok") in statuses


def test_every_job_sets_coalesce_max_instances_and_grace(private_db_path):
    init_private(private_db_path)
    loop = build_scheduler(SETTINGS, private_db_path, jobs=Recorder().jobs(NAMES))
    loop.sync(at("2024-03-04T04:00"))
    jobs = loop.store.get_all_jobs()
    assert {j.id for j in jobs} == set(NAMES)
    for job in jobs:
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 3600
        assert str(job.trigger.timezone) == "Europe/London"


def test_changed_cron_replaces_the_job_and_removed_jobs_go(private_db_path):
    init_private(private_db_path)
    loop = build_scheduler(SETTINGS, private_db_path, jobs=Recorder().jobs(NAMES))
    loop.sync(at("2024-03-04T04:00"))
    changed = {**SETTINGS, "schedule": {**SETTINGS["schedule"], "fhrs_pubs": "15 6 * * *"}}
    loop2 = build_scheduler(changed, private_db_path, jobs=Recorder().jobs(("fhrs_pubs", "digest")))
    nxt = loop2.sync(at("2024-03-04T04:00"))
    assert set(nxt) == {"fhrs_pubs", "digest"}
    assert nxt["fhrs_pubs"] == at("2024-03-04T06:15")


def test_failing_job_is_recorded_and_others_still_run(private_db_path):
    init_private(private_db_path)
    calls = []

    def boom(now):
        raise RuntimeError("source down")

    loop = build_scheduler(SETTINGS, private_db_path,
                           jobs={"fhrs_pubs": boom, "libraries": lambda now: calls.append(now)})
    loop.sync(at("2024-03-04T04:00"))
    assert loop.run_due(at("2024-03-04T05:40")) == ["fhrs_pubs", "libraries"]
    assert len(calls) == 1
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

    real_now = datetime.now(LONDON)
    settings = {**SETTINGS, "schedule": {"fhrs_pubs": "* * * * *"}}
    loop = build_scheduler(settings, private_db_path, jobs={"fhrs_pubs": slow})
    loop.sync(real_now - timedelta(seconds=61))    # its next run is already due: it starts at once

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
    from monitor.scheduling.scheduler import crontab_days_as_names
    assert crontab_days_as_names(cron) == expected
