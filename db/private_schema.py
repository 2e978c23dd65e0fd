"""The private database's schema: subscriptions, the outbox ledger, scheduler state. Never served."""
from __future__ import annotations

import sqlite_utils

from db.migrations import Migrations

private = Migrations("private")


@private
def m001_subscriptions(db: sqlite_utils.Database) -> None:
    db["subscriptions"].create({
        "id": int, "email": str, "wards": str, "lad_codes": str, "left_behind": int, "kinds": str,
        "token": str, "created_at": str, "active": int,
    }, pk="id")
    db["subscriptions"].create_index(["email"], unique=True)
    db["subscriptions"].create_index(["token"], unique=True)


@private
def m002_outbox(db: sqlite_utils.Database) -> None:
    # The delivery ledger: one row per message, written before anything is sent. `dedupe_key` makes enqueueing
    # idempotent (one alert per subscriber per crawl, one digest per subscriber per week).
    db["outbox"].create({
        "id": int, "message_id": str, "dedupe_key": str, "kind": str, "recipient": str, "subject": str,
        "message": bytes, "status": str, "attempts": int, "next_attempt_at": str, "last_error": str,
        "created_at": str, "claimed_at": str, "handed_over_at": str, "sent_at": str, "note": str,
    }, pk="id")
    db["outbox"].create_index(["message_id"], unique=True)
    db["outbox"].create_index(["dedupe_key"], unique=True)
    db["outbox"].create_index(["status", "next_attempt_at"])
    db["delivery_runs"].create({
        "id": int, "kind": str, "at": str, "crawl_id": int, "stats": str,
    }, pk="id")


@private
def m003_scheduler_state(db: sqlite_utils.Database) -> None:
    db["heartbeat"].create({
        "name": str, "at": str, "pid": int, "job": str, "status": str, "detail": str,
    }, pk="name")
    db["job_runs"].create({
        "id": int, "job": str, "scheduled_for": str, "started_at": str, "finished_at": str, "status": str,
        "detail": str,
    }, pk="id")
    db["job_runs"].create_index(["job", "started_at"])


@private
def m010_web_signups(db: sqlite_utils.Database) -> None:
    # Double opt-in from the web: a request waits here, by the SHA-256 of its emailed token, until confirmed.
    # Rows also count the confirmation emails sent to an address, for the daily limit.
    db["signups"].create({
        "id": int, "email": str, "wards": str, "kinds": str, "token_hash": str, "created_at": str,
        "confirmed_at": str,
    }, pk="id")
    db["signups"].create_index(["token_hash"], unique=True)
    db["signups"].create_index(["email", "created_at"])


@private
def m011_outbox_event_ids(db: sqlite_utils.Database) -> None:
    # The events an alert told of (a JSON list): a correction goes to those who were told of the closure it corrects.
    if "event_ids" not in db["outbox"].columns_dict:
        db["outbox"].add_column("event_ids", str)
