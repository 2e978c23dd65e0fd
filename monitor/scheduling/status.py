"""What needs a person: each job's last and next run, each source's health, the outbox, the operator's queue.

`status(db, private_db, settings, now)` gathers it as plain data; `needs_attention` says why a person should look
(a source whose last crawl failed, or whose last healthy crawl is older than `stale_after_days`; a job whose last run
failed, or that was due longer ago than the misfire grace and has not run, so no scheduler is running it; mail
that failed or has waited over an hour; operator news not yet sent). The `status` command prints it and exits 1 when there is any.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.delivery import outbox
from monitor.delivery.operator import pending
from spiders import registry


def _jobs(private_db) -> list[dict]:
    last = {}
    if private_db["job_runs"].exists():
        for r in private_db.query("select job, status, started_at, finished_at, detail from job_runs "
                                  "where id in (select max(id) from job_runs group by job) order by job"):
            last[r["job"]] = r
    nexts = {}
    if private_db["apscheduler_jobs"].exists():
        for r in private_db.query("select id, next_run_time from apscheduler_jobs"):
            if r["next_run_time"] is not None:
                nexts[r["id"]] = datetime.fromtimestamp(r["next_run_time"], UTC).isoformat(timespec="minutes")
    return [{"job": name, "last_status": (last.get(name) or {}).get("status"),
             "last_run": (last.get(name) or {}).get("started_at"), "detail": (last.get(name) or {}).get("detail"),
             "next_run": nexts.get(name)} for name in sorted(set(last) | set(nexts))]


def _sources(db, settings: dict) -> list[dict]:
    out = []
    for source in registry.enabled(settings):
        runs = list(db.query("select id, status, now, reason from crawl_runs where source = ? and finished_at is "
                             "not null order by id desc limit 20", [source]))
        healthy = next((r for r in runs if r["status"] in ("ok", "partial")), None)
        streak = 0
        for r in runs:
            if r["status"] != "failed":
                break
            streak += 1
        out.append({"source": source, "last_status": runs[0]["status"] if runs else None,
                    "last_crawl": runs[0]["now"] if runs else None, "reason": runs[0]["reason"] if runs else "",
                    "last_healthy": healthy["now"] if healthy else None, "failed_in_a_row": streak})
    return out


def stale(sources: list[dict], settings: dict, now: str) -> list[str]:
    """Return why each source's data is old: no healthy crawl in `stale_after_days` (an archived source never is)."""
    limit = outbox.to_datetime(now) - timedelta(days=int(settings["stale_after_days"]))
    frozen = registry.frozen(settings)
    return [f"source {s['source']}: no healthy crawl since {(s['last_healthy'] or 'ever')[:10]}"
            + ("" if s["last_healthy"] else " (never crawled healthy)")
            for s in sources if s["source"] not in frozen and s["last_crawl"] is not None
            and (s["last_healthy"] is None or outbox.to_datetime(s["last_healthy"]) < limit)]


def overdue(jobs: list[dict], settings: dict, now: str) -> list[str]:
    """Return the jobs due longer ago than the misfire grace: nothing has run them, so no scheduler is running."""
    limit = outbox.to_datetime(now) - timedelta(seconds=int(settings["misfire_grace_seconds"]))
    return [f"job {j['job']}: due at {j['next_run']} and not run: is the scheduler (or its cron line) running?"
            for j in jobs if j["next_run"] and outbox.to_datetime(j["next_run"]) < limit]


def status(db, private_db, settings: dict, now: str) -> dict:
    """Return the whole picture, with `needs_attention`: the reasons a person should look, empty when none."""
    jobs, sources = _jobs(private_db), _sources(db, settings)
    counts = outbox.status_counts(private_db)
    hour_ago = (outbox.to_datetime(now) - timedelta(hours=1)).isoformat(timespec="seconds")
    waiting = private_db.execute("select count(*) from outbox where status = 'queued' and created_at < ?",
                                 [hour_ago]).fetchone()[0]
    events, failed_jobs = pending(db, private_db)
    reasons = [f"source {s['source']}: last crawl failed ({s['reason'][:120]})" for s in sources
               if s["last_status"] == "failed"]
    reasons += stale(sources, settings, now)
    reasons += [f"job {j['job']}: last run failed" for j in jobs if j["last_status"] == "failed"]
    reasons += overdue(jobs, settings, now)
    if counts.get("failed"):
        reasons.append(f"outbox: {counts['failed']} message(s) failed for good")
    if waiting:
        reasons.append(f"outbox: {waiting} message(s) waiting over an hour")
    if events or failed_jobs:
        reasons.append(f"operator: {len(events) + len(failed_jobs)} problem(s) not yet mailed"
                       + ("" if settings.get("operator_email") else " (no operator_email set)"))
    return {"now": now, "jobs": jobs, "sources": sources, "outbox": counts, "outbox_waiting_over_an_hour": waiting,
            "operator_pending": {"source_failing": len(events), "failed_jobs": len(failed_jobs)},
            "needs_attention": reasons}
