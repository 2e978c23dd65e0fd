"""The scheduler: APScheduler 3 decides what runs; this module wires it to the private database and the jobs.

The job store (the private database) holds `run_named_job(name)` for each job; what a name does is looked up in
the Loop of the running process, so tests inject plain callables and nothing unpicklable is stored. Every job:
coalesce=True, max_instances=1, misfire_grace_time from settings; one worker thread, so jobs never overlap on the
SQLite files. The scheduler starts paused, its stored jobs are made to match the configuration through its own API
(keeping the next-run times of unchanged jobs, so a restart still sees what it missed), then it runs: for ever
(`schedule`, a BackgroundScheduler until SIGTERM) or one pass of its own loop (`schedule --once`, from cron).
APScheduler picks the due jobs, coalesces missed runs and skips those past the grace; a skipped run is recorded in
job_runs as `missed`. Both read the wall clock, which the tests move with time-machine.
"""
from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from db.store import connect, init_private, init_public
from monitor.delivery.mailer import transport_from_settings
from monitor.delivery.operator import notify_operator
from monitor.delivery.outbox import deliver_due
from monitor.scheduling.cron import cron_trigger
from monitor.scheduling.jobs import crawl_job, digest_job
from monitor.scheduling.stop import STOP, stop_requested
from spiders import registry

log = logging.getLogger(__name__)
_CONTEXT: dict[str, object] = {}


def run_named_job(name: str) -> None:
    """Run one job of this process's Loop by name; this is what the job store refers to."""
    loop = _CONTEXT.get("loop")
    if loop is not None:
        loop.run_job(name)


def default_jobs(settings: dict, db_path, private_db_path, config_path=None) -> dict[str, Callable[[str], object]]:
    """Return the real jobs: one crawl per enabled source, the weekly digest, and outbox retries."""
    def crawl(source: str) -> Callable[[str], object]:
        def job(now: str):
            if source in registry.frozen(settings) and _has_healthy_crawl(db_path, source):
                return f"{source} is frozen (archived listing): crawled once, not again on a schedule"
            return crawl_job(settings, db_path, private_db_path, source, now, config_path=config_path)
        return job

    def digest(now: str):
        return digest_job(settings, db_path, private_db_path, now)

    def retry_outbox(now: str):
        return deliver_due(init_private(private_db_path), transport_from_settings(settings), settings, now)

    jobs = {source: crawl(source) for source in registry.enabled(settings)}
    jobs.update(digest=digest, outbox=retry_outbox)
    return jobs


def _has_healthy_crawl(db_path, source: str) -> bool:
    db = connect(db_path)
    return db["scope_runs"].exists() and db.execute(
        "select 1 from scope_runs where source = ? and healthy = 1 limit 1", [source]).fetchone() is not None


class OnePassScheduler(BaseScheduler):
    """An APScheduler scheduler with no loop of its own: `schedule --once` runs one pass of APScheduler's."""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        pass   # nothing waits to be woken: the caller runs the pass


class Loop:
    """APScheduler over the private database's job store, with the bookkeeping (heartbeat, job runs) around it."""

    def __init__(self, settings: dict, private_db_path, jobs: dict[str, Callable[[str], object]],
                 once: bool = False):
        self.settings, self.private_db_path, self.jobs = settings, Path(private_db_path), jobs
        self.after_job: Callable[[datetime], object] | None = None   # e.g. tell the operator what failed
        self.tz = ZoneInfo(settings.get("schedule_timezone", "Europe/London"))
        self.options = {"coalesce": True, "max_instances": 1,
                        "misfire_grace_time": int(settings.get("misfire_grace_seconds", 21600))}
        self.ran: list[str] = []
        self._running: dict[str, int] = {}   # job name -> its job_runs row, given its scheduled time when it ends
        self.store = SQLAlchemyJobStore(url=f"sqlite:///{self.private_db_path}")
        kind = OnePassScheduler if once else BackgroundScheduler
        self.scheduler = kind(jobstores={"default": self.store, "memory": MemoryJobStore()},
                              executors={"default": ThreadPoolExecutor(1)}, job_defaults=self.options,
                              timezone=self.tz)
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED)
        self.scheduler.add_listener(self._executed, EVENT_JOB_EXECUTED)
        _CONTEXT["loop"] = self

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def recover(self, now: datetime) -> int:
        """Close job runs a dead scheduler left `running` (the caller holds the scheduler lock); return how many."""
        db = connect(self.private_db_path)
        if not db["job_runs"].exists():
            return 0
        with db.conn:
            cursor = db.execute("update job_runs set status = 'failed', finished_at = ?, detail = "
                                "'interrupted: the scheduler stopped while this job ran' where status = 'running'",
                                [now.isoformat()])
        return cursor.rowcount

    def failures_since(self, started: datetime) -> list[str]:
        """Return the names of jobs that failed in runs started at or after a time."""
        db = connect(self.private_db_path)
        return [r[0] for r in db.execute("select job from job_runs where status = 'failed' and started_at >= ? "
                                         "order by id", [started.isoformat()]).fetchall()]

    def start(self) -> dict[str, datetime]:
        """Start APScheduler paused, make its stored jobs match the configuration; return their next runs."""
        triggers = {name: cron_trigger(self.settings, name, self.tz) for name in self.jobs}   # bad cron: stop here
        self.scheduler.start(paused=True)
        self._sync(triggers)
        return self.next_runs()

    def _sync(self, triggers: dict[str, CronTrigger]) -> None:
        # add_job(replace_existing=True) would compute every next-run time afresh from now and so forget the runs
        # missed while no scheduler ran: a stored job is rescheduled only when its cron changed, and a changed grace
        # is set on it without touching its next run.
        for name, trigger in triggers.items():
            old = self.scheduler.get_job(name, jobstore="default")
            if old is None:
                self.scheduler.add_job(run_named_job, trigger, args=(name,), id=name, name=name, jobstore="default")
                continue
            if str(old.trigger) != str(trigger) or str(old.trigger.timezone) != str(self.tz):
                self.scheduler.reschedule_job(name, jobstore="default", trigger=trigger)
            if any(getattr(old, key) != value for key, value in self.options.items()):
                self.scheduler.modify_job(name, jobstore="default", **self.options)
        for job in self.scheduler.get_jobs(jobstore="default"):
            if job.id not in triggers:
                self.scheduler.remove_job(job.id, jobstore="default")

    def next_runs(self) -> dict[str, datetime]:
        return {job.id: job.next_run_time for job in self.store.get_all_jobs()}

    def run_once(self) -> list[str]:
        """Run what is due now, as APScheduler's loop would; wait for it, shut down, and return the jobs run."""
        if not isinstance(self.scheduler, OnePassScheduler):
            raise TypeError("run_once needs a Loop built with once=True")
        self.scheduler.resume()
        # APScheduler 3 has no public "process the due jobs once"; _process_jobs is its loop's single pass: it
        # picks the due jobs, coalesces their missed times, submits them and stores their next-run times. The
        # executor then skips, as missed, a run later than the grace.
        self.scheduler._process_jobs()
        self.scheduler.shutdown(wait=True)
        return self.ran

    def close(self) -> None:
        """Shut the scheduler down, waiting for a running job (for callers that only started it)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def run_forever(self) -> None:
        """Run APScheduler until SIGTERM or SIGINT; finish the running job, then return."""
        def stop(signum, frame):
            STOP.set()   # a second signal (a supervisor forwarding it, say) changes nothing

        previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
        self.scheduler.add_job(lambda: self.beat(self.now()), "interval", minutes=5, id="heartbeat",
                               jobstore="memory", misfire_grace_time=60)
        try:
            self.beat(self.now(), status="started")
            self.scheduler.resume()
            while not STOP.wait(1):
                pass
            self.scheduler.shutdown(wait=True)   # the running job finishes; any queued behind it see STOP and skip
            self.beat(self.now(), status="stopped")
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def run_job(self, name: str) -> None:
        """Run one job, recording it in job_runs and the heartbeat; a failure is recorded, not raised."""
        if stop_requested():
            return
        self.ran.append(name)
        self._running[name] = run_id = self._record(name, None, self.now(), "running", "")
        try:
            result = self.jobs[name](self.now().isoformat())
        except Exception as e:  # one failing job must not stop the loop
            log.exception("job %s failed", name)
            self._finish(run_id, name, "failed", f"{type(e).__name__}: {e}"[:500])
        else:
            failed = getattr(result, "failed", None)   # a job may finish and still report a failure
            self._finish(run_id, name, "failed" if failed else "ok", (failed or repr(result))[:500])
        if self.after_job is not None:
            try:   # telling the operator must never stop the loop either
                self.after_job(self.now())
            except Exception:
                log.exception("telling the operator after job %s failed", name)

    def _executed(self, event: JobExecutionEvent) -> None:
        run_id = self._running.pop(event.job_id, None)
        if run_id is not None:
            db = connect(self.private_db_path)
            with db.conn:
                db["job_runs"].update(run_id, {"scheduled_for": event.scheduled_run_time.isoformat()})

    def _missed(self, event: JobExecutionEvent) -> None:
        if event.jobstore == "default":
            now = self.now()
            self._record(event.job_id, event.scheduled_run_time, now, "missed",
                         f"not run: {now - event.scheduled_run_time} late, over the grace of "
                         f"{self.options['misfire_grace_time']} s (any runs missed before it coalesced into it)")

    def _record(self, name, scheduled_for, now, status, detail) -> int:
        db = connect(self.private_db_path)
        with db.conn:
            run_id = db["job_runs"].insert({
                "job": name, "scheduled_for": scheduled_for.isoformat() if scheduled_for else None,
                "started_at": now.isoformat(), "status": status, "detail": detail}).last_pk
        self.beat(now, name, status if status != "running" else f"running {name}", detail, db)
        return run_id

    def _finish(self, run_id: int, name: str, status: str, detail: str) -> None:
        db = connect(self.private_db_path)
        finished = self.now()
        with db.conn:
            db["job_runs"].update(run_id, {"finished_at": finished.isoformat(), "status": status, "detail": detail})
        self.beat(finished, name, status, detail, db)

    def beat(self, now: datetime, job: str = "", status: str = "idle", detail: str = "", db=None) -> None:
        """Write the heartbeat row: when the loop last ran and what it ran."""
        db = db or connect(self.private_db_path)
        with db.conn:
            db["heartbeat"].upsert({"name": "scheduler", "at": now.isoformat(), "pid": os.getpid(), "job": job,
                                    "status": status, "detail": detail}, pk="name")


def build_scheduler(settings: dict, private_db_path, jobs: dict[str, Callable[[str], object]] | None = None,
                    db_path=None, config_path=None, once: bool = False) -> Loop:
    """Return a Loop over the private database with the given (or the real) jobs; `once` for one pass."""
    STOP.clear()
    jobs = jobs if jobs is not None else default_jobs(settings, db_path, private_db_path, config_path)
    loop = Loop(settings, private_db_path, jobs, once=once)
    if db_path is not None:
        def tell_operator(now: datetime):
            return notify_operator(init_public(db_path), init_private(private_db_path), settings, now.isoformat())
        loop.after_job = tell_operator
    return loop
