"""The scheduler: APScheduler 3 wiring only. Jobs live in the private database, so next-run times survive restarts.

The job store holds `run_named_job(name)` for each job; what a name does is looked up in JOB_RUNNERS, filled
by `build_scheduler` in each process (so tests inject plain callables and nothing unpicklable is stored).
Every job: coalesce=True, max_instances=1, misfire_grace_time from settings. One worker thread: jobs never
overlap on the SQLite files. `run_due(now)` is the same decision for `schedule --once` and for tests (clock
injected): each due job runs once for its latest missed time, unless that time is older than the grace.
"""
from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from core.errors import ConfigError, LockError
from db.store import connect, init_private, init_public
from monitor.delivery.mailer import transport_from_settings
from monitor.delivery.operator import notify_operator
from monitor.delivery.outbox import deliver_due
from monitor.scheduling.jobs import crawl_job, digest_job
from monitor.scheduling.stop import STOP, stop_requested
from spiders import registry

log = logging.getLogger(__name__)
JOB_RUNNERS: dict[str, Callable[[str], object]] = {}
_BUSY = threading.Lock()
_CONTEXT: dict[str, object] = {}


def run_named_job(name: str) -> None:
    """Run one job by name with the current time; this is what the job store refers to."""
    loop = _CONTEXT.get("loop")
    if loop is not None:
        loop.run_job(name, loop.clock(), scheduled_for=None)


def default_jobs(settings: dict, db_path, private_db_path, config_path=None) -> dict[str, Callable[[str], object]]:
    """Return the real jobs: one crawl per enabled source, the weekly digest, and outbox retries."""
    def crawl(source: str) -> Callable[[str], object]:
        def job(now: str):
            if source in (settings.get("frozen_sources") or {}) and _has_healthy_crawl(db_path, source):
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


def cron_of(settings: dict, name: str) -> str:
    """Return the cron expression of a job (outbox retries every 15 minutes unless configured)."""
    found = registry.cron(settings, name)
    if found:
        return found
    if name == "outbox":
        return "*/15 * * * *"
    raise ConfigError(f"no schedule for job {name!r}: add it to the [schedule] table")


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab_days_as_names(expr: str) -> str:
    """Rewrite cron's numeric day-of-week (0 or 7 = Sunday) as names: APScheduler 3 counts 0 as Monday."""
    fields = expr.split()
    if len(fields) != 5:
        raise ConfigError(f"a cron expression has 5 fields (minute hour day month day-of-week): {expr!r}")
    parts = []
    for part in fields[4].split(","):
        base, slash, step = part.partition("/")
        if base.replace("-", "").isdigit():
            try:
                base = "-".join(_DAY_NAMES[int(n)] for n in base.split("-"))
            except IndexError:
                raise ConfigError(f"day of week out of range in {expr!r}") from None
        parts.append(base + slash + step)
    return " ".join(fields[:4] + [",".join(parts)])


@contextmanager
def scheduler_lock(private_db_path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock next to the private database; raise LockError when another scheduler has it."""
    path = Path(f"{private_db_path}.scheduler.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            pid = f.read().strip() or "?"
            raise LockError(f"another scheduler is running on {private_db_path} (pid {pid})") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class Loop:
    """The scheduler's job store, jobs and bookkeeping (heartbeat, job runs) on the private database."""

    def __init__(self, settings: dict, private_db_path, jobs: dict[str, Callable[[str], object]],
                 clock: Callable[[], datetime] | None = None):
        self.settings, self.private_db_path, self.jobs = settings, Path(private_db_path), jobs
        self.after_job: Callable[[datetime], object] | None = None   # e.g. tell the operator what failed
        self.tz = ZoneInfo(settings.get("schedule_timezone", "Europe/London"))
        self.clock = clock or (lambda: datetime.now(self.tz))
        self.grace = int(settings.get("misfire_grace_seconds", 21600))
        self.store = SQLAlchemyJobStore(url=f"sqlite:///{self.private_db_path}")
        self.scheduler = BlockingScheduler(
            jobstores={"default": self.store}, executors={"default": ThreadPoolExecutor(1)}, timezone=self.tz,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": self.grace})
        self.store.start(self.scheduler, "default")
        JOB_RUNNERS.clear()
        JOB_RUNNERS.update(jobs)
        _CONTEXT["loop"] = self

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

    def trigger(self, name: str) -> CronTrigger:
        expr = cron_of(self.settings, name)
        try:
            return CronTrigger.from_crontab(crontab_days_as_names(expr), timezone=self.tz)
        except ValueError as e:
            raise ConfigError(f"bad cron expression for {name!r}: {expr!r} ({e})") from None

    def sync(self, now: datetime) -> dict[str, datetime]:
        """Make the stored jobs match the configuration, keeping the next-run time of unchanged jobs."""
        existing = {job.id: job for job in self.store.get_all_jobs()}
        for name in self.jobs:
            trigger = self.trigger(name)
            old = existing.pop(name, None)
            if old is not None and str(old.trigger) == str(trigger) and str(old.trigger.timezone) == str(self.tz) \
                    and old.misfire_grace_time == self.grace:
                continue
            job = Job(self.scheduler, id=name, func=run_named_job, args=(name,), kwargs={}, trigger=trigger,
                      executor="default", name=name, misfire_grace_time=self.grace, coalesce=True,
                      max_instances=1, next_run_time=trigger.get_next_fire_time(None, now))
            (self.store.update_job if old is not None else self.store.add_job)(job)
        for name in existing:
            self.store.remove_job(name)
        return self.next_runs()

    def next_runs(self) -> dict[str, datetime]:
        return {job.id: job.next_run_time for job in self.store.get_all_jobs()}

    def run_due(self, now: datetime) -> list[str]:
        """Run each due job once (coalesced) unless its latest missed time is past the grace; return those run."""
        ran = []
        due = [(self._missed_times(job, now), job) for job in self.store.get_due_jobs(now)]
        for times, job in sorted(due, key=lambda pair: pair[0][-1]):
            latest = times[-1]
            if now - latest > timedelta(seconds=job.misfire_grace_time):
                self._record(job.id, latest, now, "missed", f"{len(times)} run(s) missed beyond the grace time")
            elif not stop_requested():
                self.run_job(job.id, now, scheduled_for=latest)
                ran.append(job.id)
            job.next_run_time = job.trigger.get_next_fire_time(latest, now)
            self.store.update_job(job)
        return ran

    @staticmethod
    def _missed_times(job: Job, now: datetime) -> list[datetime]:
        times, t = [], job.next_run_time
        while t is not None and t <= now and len(times) < 10000:
            times.append(t)
            t = job.trigger.get_next_fire_time(t, now)
        return times

    def run_job(self, name: str, now: datetime, scheduled_for: datetime | None) -> None:
        """Run one job, recording it in job_runs and the heartbeat; a failure is recorded, not raised."""
        if stop_requested():
            return
        with _BUSY:
            run_id = self._record(name, scheduled_for, now, "running", "")
            try:
                result = self.jobs[name](now.isoformat())
            except Exception as e:  # one failing job must not stop the loop
                log.exception("job %s failed", name)
                self._finish(run_id, name, "failed", f"{type(e).__name__}: {e}"[:500])
            else:
                failed = getattr(result, "failed", None)   # a job may finish and still report a failure
                self._finish(run_id, name, "failed" if failed else "ok", (failed or repr(result))[:500])
            if self.after_job is not None:
                try:   # telling the operator must never stop the loop either
                    self.after_job(now)
                except Exception:
                    log.exception("telling the operator after job %s failed", name)

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
        finished = self.clock()
        with db.conn:
            db["job_runs"].update(run_id, {"finished_at": finished.isoformat(), "status": status, "detail": detail})
        self.beat(finished, name, status, detail, db)

    def beat(self, now: datetime, job: str = "", status: str = "idle", detail: str = "", db=None) -> None:
        """Write the heartbeat row: when the loop last ran and what it ran."""
        db = db or connect(self.private_db_path)
        with db.conn:
            db["heartbeat"].upsert({"name": "scheduler", "at": now.isoformat(), "pid": os.getpid(), "job": job,
                                    "status": status, "detail": detail}, pk="name")

    def run_forever(self) -> None:
        """Run the BlockingScheduler until SIGTERM or SIGINT; finish the running job, then return."""
        def stop(signum, frame):
            if STOP.is_set():   # a second signal (a supervisor forwarding it, say) changes nothing
                return
            STOP.set()
            try:
                self.scheduler.shutdown(wait=False)
            except SchedulerNotRunningError:
                pass

        previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
        self.scheduler.add_job(lambda: self.beat(self.clock()), "interval", minutes=5, id="heartbeat",
                               jobstore="memory", coalesce=True, max_instances=1, misfire_grace_time=60)
        try:
            self.beat(self.clock(), status="started")
            self.scheduler.start()
            with _BUSY:  # the job that was running when the signal came has finished
                self.beat(self.clock(), status="stopped")
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def build_scheduler(settings: dict, private_db_path, jobs: dict[str, Callable[[str], object]] | None = None,
                    clock: Callable[[], datetime] | None = None, db_path=None, config_path=None) -> Loop:
    """Return a Loop over the private database with the given (or the real) jobs."""
    STOP.clear()
    jobs = jobs if jobs is not None else default_jobs(settings, db_path, private_db_path, config_path)
    loop = Loop(settings, private_db_path, jobs, clock)
    if db_path is not None:
        def tell_operator(now: datetime):
            return notify_operator(init_public(db_path), init_private(private_db_path), settings, now.isoformat())
        loop.after_job = tell_operator
    loop.scheduler.add_jobstore(MemoryJobStore(), "memory")
    return loop
