"""Tell the operator: failing sources and failed jobs go to `operator_email` through the outbox, rate-limited.

What is pending: `source_failing` events of the public database and failed job runs of the private one, past the
high-water marks in `operator_state`. At most one message per `operator_alert_hours`; anything that happens in
between waits and goes in the next one, so nothing is dropped and a failing source is not a mail storm.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlite_utils

from monitor.delivery import outbox
from monitor.delivery.mailer import compose, transport_from_settings
from monitor.delivery.text import clean_text


def _mark(private_db: sqlite_utils.Database, name: str) -> int:
    if not private_db["operator_state"].exists():
        return 0
    row = private_db.execute("select value from operator_state where name = ?", [name]).fetchone()
    return int(row[0]) if row else 0


def pending(db: sqlite_utils.Database, private_db: sqlite_utils.Database) -> tuple[list[dict], list[dict]]:
    """Return (source_failing events, failed job runs) the operator has not been told about."""
    events = list(db.query("select id, source, name, at, evidence from events where kind = 'source_failing' "
                           "and id > ? order by id", [_mark(private_db, "event")]))
    jobs = []
    if private_db["job_runs"].exists():
        jobs = list(private_db.query("select id, job, started_at, detail from job_runs where status = 'failed' "
                                     "and id > ? order by id", [_mark(private_db, "job_run")]))
    return events, jobs


def last_sent_at(private_db: sqlite_utils.Database) -> str | None:
    row = private_db.execute("select max(created_at) from outbox where kind = 'operator'").fetchone()
    return row[0] if row else None


def queue_operator_mail(db, private_db, settings: dict, now, stats: Counter | None = None) -> bool:
    """Queue one message to the operator if anything is pending and the rate limit allows; return whether."""
    stats = Counter() if stats is None else stats
    address = (settings.get("operator_email") or "").strip()
    if not address:
        return False
    events, jobs = pending(db, private_db)
    if not events and not jobs:
        return False
    last = last_sent_at(private_db)
    hours = float(settings.get("operator_alert_hours", 6))
    if last and outbox.to_datetime(now) - outbox.to_datetime(last) < timedelta(hours=hours):
        stats["operator/held_by_rate_limit"] += 1
        return False
    lines = [f"Source failing: {clean_text(e['name'])} (since {e['at'][:16]})" for e in events]
    lines += [f"Job failed: {j['job']} at {j['started_at'][:16]}: {clean_text(j['detail'], 300)}" for j in jobs]
    subject = (f"Monitor needs you: {len(events)} failing source(s), {len(jobs)} failed job(s)")
    text = ("The left-behind monitor met problems it cannot fix itself:\n\n" + "\n".join(f"- {x}" for x in lines)
            + "\n\nA failing source changes no figures and closes nothing until it is healthy again. "
              "`python run.py status` shows every source's health and the outbox.\n")
    html = "<p>The left-behind monitor met problems it cannot fix itself:</p><ul>" + "".join(
        f"<li>{_escape(x)}</li>" for x in lines) + "</ul><p><code>python run.py status</code> shows more.</p>"
    message_id, data = compose(mail_from=settings["mail_from"], to=address, subject=subject, text=text, html=html,
                               now=outbox.to_datetime(now), unsubscribe_url="", stats=stats)
    key = f"operator:{events[-1]['id'] if events else 0}:{jobs[-1]['id'] if jobs else 0}"
    outbox.enqueue(private_db, [{"message_id": message_id, "dedupe_key": key, "kind": "operator",
                                 "recipient": address, "subject": subject, "message": data}], now)
    with private_db.conn:
        marks = [{"name": "event", "value": events[-1]["id"]}] if events else []
        marks += [{"name": "job_run", "value": jobs[-1]["id"]}] if jobs else []
        private_db["operator_state"].upsert_all(marks, pk="name")
    stats["operator/queued"] += 1
    return True


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notify_operator(db, private_db, settings: dict, now, transport=None) -> int:
    """Queue what the operator should hear and deliver everything due; return messages sent."""
    stats: Counter = Counter()
    if not queue_operator_mail(db, private_db, settings, now, stats):
        return 0
    sent = outbox.deliver_due(private_db, transport or transport_from_settings(settings), settings, now, stats=stats)
    outbox.record_run(private_db, "operator", now, stats)
    return sent
