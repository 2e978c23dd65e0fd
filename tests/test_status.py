"""`status` asks for a person when a source's data has gone old, or when no scheduler is running the jobs."""
from __future__ import annotations

from datetime import datetime

import time_machine

from core.config import defaults
from monitor.scheduling.scheduler import build_scheduler
from monitor.scheduling.status import status

SETTINGS = {**defaults(), "enabled_sources": ["fhrs_pubs", "mutual_aid"], "misfire_grace_seconds": 3600,
            "schedule": {"fhrs_pubs": "0 5 * * *", "mutual_aid": "30 4 * * 0", "digest": "0 7 * * 1"},
            "stale_after_days": 8}   # mutual_aid's spider declares it archived: its publisher stopped in 2020


def crawl_run(db, source: str, now: str, status: str) -> None:
    db["crawl_runs"].insert({"source": source, "scope": "", "now": now, "started_at": now, "finished_at": now,
                             "status": status, "reason": "" if status == "ok" else "HTTP 500"}, alter=True)


def test_a_source_with_no_healthy_crawl_for_longer_than_stale_after_days_needs_a_person(fresh_db, private_db):
    crawl_run(fresh_db, "mutual_aid", "2020-06-29T05:00:00+00:00", "ok")     # archived: old, and rightly so
    crawl_run(fresh_db, "fhrs_pubs", "2024-03-01T05:00:00+00:00", "ok")
    crawl_run(fresh_db, "fhrs_pubs", "2024-03-02T05:00:00+00:00", "partial")  # partial is healthy for some scopes
    # 2024-03-02 05:00 + 8 days = 2024-03-10 05:00: just before, nothing to say; just after, the data is old.
    assert status(fresh_db, private_db, SETTINGS, "2024-03-10T04:59:00+00:00")["needs_attention"] == []
    late = status(fresh_db, private_db, SETTINGS, "2024-03-10T05:01:00+00:00")["needs_attention"]
    assert late == ["source fhrs_pubs: no healthy crawl since 2024-03-02"]
    # Failing crawls since do not make it fresh; they are a reason of their own.
    crawl_run(fresh_db, "fhrs_pubs", "2024-03-10T05:00:00+00:00", "failed")
    reasons = status(fresh_db, private_db, SETTINGS, "2024-03-10T05:01:00+00:00")["needs_attention"]
    assert "source fhrs_pubs: no healthy crawl since 2024-03-02" in reasons
    assert "source fhrs_pubs: last crawl failed (HTTP 500)" in reasons
    unfrozen = {**SETTINGS, "frozen_sources": {"mutual_aid": False}}
    assert "source mutual_aid: no healthy crawl since 2020-06-29" in \
        status(fresh_db, private_db, unfrozen, "2024-03-10T05:01:00+00:00")["needs_attention"]


def test_a_job_due_longer_ago_than_the_grace_means_no_scheduler_runs_it(fresh_db, private_db, private_db_path):
    jobs = {name: (lambda now: None) for name in ("fhrs_pubs", "mutual_aid", "digest")}
    with time_machine.travel(datetime.fromisoformat("2024-03-04T04:00:00+00:00"), tick=False):   # a Monday
        loop = build_scheduler(SETTINGS, private_db_path, jobs=jobs, once=True)
        loop.start()     # next runs stored: fhrs_pubs 05:00 (London is on UTC in March), digest 07:00
        loop.close()
    # 05:00 + the grace of an hour = 06:00: a cron line or a loop that ran would have run it by then.
    assert status(fresh_db, private_db, SETTINGS, "2024-03-04T05:59:00+00:00")["needs_attention"] == []
    reasons = status(fresh_db, private_db, SETTINGS, "2024-03-04T06:01:00+00:00")["needs_attention"]
    assert reasons == ["job fhrs_pubs: due at 2024-03-04T05:00+00:00 and not run: is the scheduler (or its cron "
                       "line) running?"]
