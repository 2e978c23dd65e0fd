"""The outbox ledger in the private database: every message is written, then sent, then marked sent.

States: queued -> sending (claimed, committed before the transport is touched) -> handed_over (the transport
has it: SMTP final dot written, Maildir file renamed) -> sent (server replied 250 / file in place), or back to
queued with a backoff, or failed after too many attempts or a permanent refusal.

Recovery after a crash or kill (run at the start of every delivery, under the delivery lock, so any row still
`sending` or `handed_over` belongs to a dead process): the transport is asked whether it has the message.
- Maildir answers exactly (the file named after the Message-ID is there or not): sent, or queued again.
- SMTP cannot answer. Only the server's 250 reply marks a message sent: a server may drop a message whose client
  vanished after the final dot and before its reply. So a row left `sending` or `handed_over` is queued again and
  resent with the same Message-ID, which most mail stores collapse. We chose a possible duplicate over a
  possible silent loss.
"""
from __future__ import annotations

import fcntl
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from monitor.delivery.mailer import PermanentDeliveryError, TransientDeliveryError, address_of

MAX_BACKOFF = timedelta(hours=6)


def to_datetime(now) -> datetime:
    """Return `now` (datetime or ISO string) as an aware datetime, UTC when no zone is given."""
    value = datetime.fromisoformat(now) if isinstance(now, str) else now
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(now) -> str:
    return to_datetime(now).astimezone(UTC).isoformat(timespec="seconds")


def enqueue(db: sqlite_utils.Database, messages: list[dict], now) -> int:
    """Write messages (dedupe_key, kind, recipient, subject, message_id, message, and for alerts the event_ids
    they tell of) as queued; return rows added."""
    before = db["outbox"].count
    with db.conn:
        for m in messages:
            event_ids = json.dumps(m["event_ids"]) if m.get("event_ids") else None
            db.execute(
                "insert or ignore into outbox (message_id, dedupe_key, kind, recipient, subject, message, status,"
                " attempts, next_attempt_at, created_at, event_ids) values (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?)",
                [m["message_id"], m["dedupe_key"], m["kind"], m["recipient"], m["subject"], m["message"],
                 _iso(now), _iso(now), event_ids])
    return db["outbox"].count - before


def told_of(db: sqlite_utils.Database, event_id: int) -> set[str]:
    """Return the dedupe keys of the alerts that told of an event (queued, sent, or being sent)."""
    rows = db.execute("select dedupe_key from outbox where kind = 'alert' and event_ids is not null and exists "
                      "(select 1 from json_each(outbox.event_ids) where value = ?)", [event_id])
    return {r[0] for r in rows.fetchall()}


def already_queued(db: sqlite_utils.Database, dedupe_key: str) -> bool:
    """Say whether a message with this dedupe key is already in the ledger."""
    return db.execute("select 1 from outbox where dedupe_key = ?", [dedupe_key]).fetchone() is not None


def _db_file(db: sqlite_utils.Database) -> Path:
    return Path(db.execute("pragma database_list").fetchone()[2])


@contextmanager
def delivery_lock(db: sqlite_utils.Database) -> Iterator[None]:
    """Hold an exclusive lock next to the private database while delivering, so recovery sees only dead claims."""
    path = _db_file(db).with_name(_db_file(db).name + ".outbox.lock")
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _set(db, row_id: int, **values) -> None:
    with db.conn:
        db["outbox"].update(row_id, values)


def recover(db: sqlite_utils.Database, transport, now, stats: Counter) -> None:
    """Settle rows a dead process left in `sending` or `handed_over` (see the module docstring)."""
    for row in db.query("select id, message_id, status from outbox where status in ('sending', 'handed_over')"):
        if transport.delivered(row["message_id"]):
            _set(db, row["id"], status="sent", sent_at=_iso(now), note="recovered: found delivered")
            stats["outbox/recovered_found_delivered"] += 1
        else:   # not there, or the transport cannot tell (SMTP): resend, same Message-ID
            note = ("recovered: requeued, fate unknown after the final dot" if row["status"] == "handed_over"
                    else "recovered: requeued after a crash")
            _set(db, row["id"], status="queued", note=note)
            stats[f"outbox/recovered_requeued_{row['status']}"] += 1


def _backoff(settings: dict, attempts: int) -> timedelta:
    first = timedelta(seconds=float(settings.get("mail_retry_seconds", 60)))
    return min(first * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _retry_later(db, row: dict, settings: dict, now, error: str, stats: Counter) -> None:
    attempts = row["attempts"] + 1
    if attempts >= int(settings.get("mail_max_attempts", 12)):
        _set(db, row["id"], status="failed", attempts=attempts, last_error=error)
        stats["outbox/failed_after_retries"] += 1
        return
    _set(db, row["id"], status="queued", attempts=attempts, last_error=error,
         next_attempt_at=_iso(to_datetime(now) + _backoff(settings, attempts)))
    stats["outbox/retry_scheduled"] += 1


def due_rows(db: sqlite_utils.Database, now) -> list[dict]:
    """Return queued messages whose next attempt is due, oldest first, without their bodies (read one at a time as
    each is sent: a week's 2,000 digests are a gigabyte)."""
    return list(db.query("select id, message_id, recipient, attempts, note from outbox where status = 'queued'"
                         " and next_attempt_at <= ? order by id", [_iso(now)]))


def deliver_due(db: sqlite_utils.Database, transport, settings: dict, now,
                on_step: Callable[[str, int], None] | None = None, stats: Counter | None = None) -> int:
    """Recover dead claims, then send every due message once; return how many were sent."""
    stats = Counter() if stats is None else stats
    step = on_step or (lambda name, row_id: None)
    sender = address_of(settings["mail_from"])
    sent = 0
    with delivery_lock(db):
        recover(db, transport, now, stats)
        rows = due_rows(db, now)
        if not rows:
            return 0
        try:
            with transport.session() as session:
                for row in rows:
                    sent += _deliver_one(db, session, row, sender, settings, now, step, stats)
        except TransientDeliveryError as e:  # the server is unreachable: every unsent row waits
            for row in due_rows(db, now):
                _retry_later(db, row, settings, now, str(e), stats)
        except PermanentDeliveryError as e:
            for row in due_rows(db, now):
                _set(db, row["id"], status="failed", last_error=str(e))
                stats["outbox/failed_permanently"] += 1
    return sent


def _deliver_one(db, session, row: dict, sender: str, settings: dict, now, step, stats: Counter) -> int:
    _set(db, row["id"], status="sending", claimed_at=_iso(now))
    step("sending", row["id"])

    def handed_over() -> None:
        _set(db, row["id"], status="handed_over", handed_over_at=_iso(now))
        step("handed_over", row["id"])

    try:
        message = db.execute("select message from outbox where id = ?", [row["id"]]).fetchone()[0]
        reply = session.send(sender, row["recipient"], message, row["message_id"], handed_over)
    except TransientDeliveryError as e:
        _retry_later(db, row, settings, now, str(e), stats)
        return 0
    except PermanentDeliveryError as e:
        _set(db, row["id"], status="failed", attempts=row["attempts"] + 1, last_error=str(e))
        stats["outbox/failed_permanently"] += 1
        return 0
    recovered = row.get("note") or ""
    note = f"{recovered}; {reply}" if recovered.startswith("recovered") else reply   # keep how it was settled
    _set(db, row["id"], status="sent", sent_at=_iso(now), attempts=row["attempts"] + 1, note=note)
    step("sent", row["id"])
    stats["outbox/sent"] += 1
    return 1


def last_error(db: sqlite_utils.Database) -> str:
    """Return why the latest message left unsent was not delivered (the transport's own words)."""
    row = db.execute("select last_error from outbox where status in ('queued', 'failed') and last_error is not null "
                     "order by id desc limit 1").fetchone()
    return row[0] if row else "the transport refused the messages"


UNSENT = ("outbox/retry_scheduled", "outbox/failed_after_retries", "outbox/failed_permanently")


def status_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Count outbox rows per status."""
    return {r["status"]: r["n"] for r in db.query("select status, count(*) n from outbox group by status")}


def record_run(db: sqlite_utils.Database, kind: str, now, stats: Counter, crawl_id: int | None = None) -> None:
    """Save a delivery run's counters, so what was sanitised, retried or recovered is visible later."""
    with db.conn:
        db["delivery_runs"].insert({"kind": kind, "at": _iso(now), "crawl_id": crawl_id,
                                    "stats": json.dumps(dict(sorted(stats.items())))})

