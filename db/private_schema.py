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
