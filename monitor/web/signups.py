"""Double opt-in in the private database: a web request becomes a subscription only once its emailed link is used.

Tokens carry 256 bits; only their SHA-256 is stored, found by index and then compared with hmac.compare_digest,
so neither the database nor response timing gives a token away. Subscription tokens (manage/unsubscribe) are
found the same way: candidates by index, then a constant-time comparison.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import timedelta

import sqlite_utils

from monitor.delivery import subscriptions
from monitor.delivery.outbox import _iso, to_datetime

CONFIRM_VALID = timedelta(days=3)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def mails_today(private_db: sqlite_utils.Database, email: str, now) -> int:
    """Count the confirmation emails sent to this address in the last 24 hours."""
    since = _iso(to_datetime(now) - timedelta(days=1))
    return private_db.execute("select count(*) from signups where lower(email) = lower(?) and created_at > ?",
                              [email, since]).fetchone()[0]


def request(private_db: sqlite_utils.Database, email: str, wards: list[str], kinds: list[str], now) -> str:
    """Record a pending signup and return its (secret) confirmation token."""
    token = secrets.token_urlsafe(32)
    with private_db.conn:
        private_db["signups"].insert({"email": email, "wards": json.dumps(sorted(set(wards))),
                                      "kinds": json.dumps(sorted(set(kinds))), "token_hash": _hash(token),
                                      "created_at": _iso(now), "confirmed_at": None})
    return token


def pending(private_db: sqlite_utils.Database, token: str, now) -> dict | None:
    """Return the unconfirmed, unexpired signup holding this token, or None."""
    wanted = _hash(token or "")
    rows = list(private_db.query("select * from signups where token_hash = ?", [wanted]))
    if not rows or not hmac.compare_digest(rows[0]["token_hash"], wanted) or rows[0]["confirmed_at"]:
        return None
    if to_datetime(rows[0]["created_at"]) + CONFIRM_VALID < to_datetime(now):
        return None
    return rows[0]


def confirm(private_db, public_db, token: str, now) -> subscriptions.Subscription | None:
    """Turn a pending signup into an active subscription (adding to any the address has); None if not valid."""
    row = pending(private_db, token, now)
    if not row:
        return None
    sub = subscriptions.subscribe(private_db, public_db, row["email"], now=now, wards=json.loads(row["wards"]),
                                  kinds=",".join(json.loads(row["kinds"])) or None)
    with private_db.conn:
        private_db["signups"].update(row["id"], {"confirmed_at": _iso(now)})
    return sub


def by_token(private_db: sqlite_utils.Database, token: str) -> subscriptions.Subscription | None:
    """Return the subscription whose manage/unsubscribe token this is, compared in constant time."""
    token = token or ""
    rows = list(private_db.query("select * from subscriptions where token = ?", [token]))
    if not rows or not hmac.compare_digest(rows[0]["token"].encode(), token.encode()):
        return None
    return subscriptions.Subscription.from_row(rows[0])


def update(private_db, sub: subscriptions.Subscription, wards: list[str], kinds: list[str]) -> None:
    """Replace what a subscriber watches (the manage page); no wards at all stops the mail."""
    with private_db.conn:
        private_db["subscriptions"].update(sub.id, {"wards": json.dumps(sorted(set(wards))),
                                                    "kinds": json.dumps(sorted(set(kinds))),
                                                    "active": int(bool(wards or sub.lad_codes or sub.left_behind))})


def leave(private_db, sub: subscriptions.Subscription) -> None:
    with private_db.conn:
        private_db["subscriptions"].update(sub.id, {"active": 0})
