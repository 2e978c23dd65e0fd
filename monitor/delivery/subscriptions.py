"""Subscriptions in the private database: who watches which wards, authorities and kinds of record."""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field

import sqlite_utils

from core.errors import InputError
from monitor.delivery.outbox import _iso
from spiders.registry import subscription_kinds

# Deliberately narrower than RFC 5322: no quoting, no spaces, no control characters, a dotted domain.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


@dataclass
class Subscription:
    id: int
    email: str
    wards: list[str]
    lad_codes: list[str]
    left_behind: bool
    kinds: list[str]
    token: str
    active: bool = True
    sources: set[str] = field(default_factory=set)
    venue_kinds: set[str] = field(default_factory=set)   # which register venues (pub, bar, members_club...)

    @classmethod
    def from_row(cls, row: dict) -> "Subscription":
        kinds = json.loads(row["kinds"] or "[]")
        known = subscription_kinds()   # word -> (source, noun, venue kinds), declared by the spiders
        return cls(id=row["id"], email=row["email"], wards=json.loads(row["wards"] or "[]"),
                   lad_codes=json.loads(row["lad_codes"] or "[]"), left_behind=bool(row["left_behind"]),
                   kinds=kinds, token=row["token"], active=bool(row["active"]),
                   sources={known[k][0] for k in kinds if k in known},
                   venue_kinds={v for k in kinds if k in known for v in known[k][2]})

    def describe(self, left_behind_wards: int) -> str:
        """Say what the subscription watches; left_behind_wards is the reference data's count."""
        parts = []
        if self.left_behind:
            parts.append(f"all {left_behind_wards} left-behind wards")
        if self.wards:
            parts.append(f"{len(self.wards)} ward(s): {', '.join(self.wards)}")
        if self.lad_codes:
            parts.append(f"local authorities {', '.join(self.lad_codes)}")
        return "; ".join(parts) or "nothing"


def validate_email(email: str) -> str:
    """Return the address trimmed, or raise InputError when it is not a plain address."""
    value = (email or "").strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InputError(f"not a valid email address: {value[:80]!r}")
    return value


def parse_kinds(kinds: str | None) -> list[str]:
    """Return the kinds from 'pub,sports_club,library,...' (all when empty), or raise InputError on an unknown one."""
    known = sorted(subscription_kinds())
    if not kinds:
        return known
    chosen = [k.strip().lower() for k in kinds.split(",") if k.strip()]
    unknown = [k for k in chosen if k not in known]
    if unknown:
        raise InputError(f"unknown kind(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return sorted(set(chosen))


def _check_codes(public_db: sqlite_utils.Database, wards: list[str], lads: list[str]) -> None:
    for code in wards:
        if not public_db.execute("select 1 from wards where code = ?", [code]).fetchone():
            raise InputError(f"unknown ward code {code!r} (2017 best-fit ward codes, E05...)")
    for code in lads:
        if not public_db.execute("select 1 from wards where lad_code = ?", [code]).fetchone():
            raise InputError(f"unknown local authority code {code!r}")


def subscribe(private_db: sqlite_utils.Database, public_db: sqlite_utils.Database, email: str, *, now,
              wards: list[str] = (), lads: list[str] = (), left_behind: bool = False,
              kinds: str | None = None) -> Subscription:
    """Add or extend a subscription (areas are added to any the address already watches); return it."""
    email = validate_email(email)
    wards = [w.strip().upper() for w in wards]
    lads = [c.strip().upper() for c in lads]
    if not (wards or lads or left_behind):
        raise InputError("say what to watch: --ward CODE, --lad CODE or --left-behind")
    _check_codes(public_db, wards, lads)
    chosen_kinds = parse_kinds(kinds)
    existing = find(private_db, email)
    row = {"email": email, "kinds": json.dumps(chosen_kinds), "active": 1}
    if existing:
        row["wards"] = json.dumps(sorted(set(existing.wards) | set(wards)))
        row["lad_codes"] = json.dumps(sorted(set(existing.lad_codes) | set(lads)))
        row["left_behind"] = int(existing.left_behind or left_behind)
        with private_db.conn:
            private_db["subscriptions"].update(existing.id, row)
        return find(private_db, email)
    row.update(wards=json.dumps(sorted(set(wards))), lad_codes=json.dumps(sorted(set(lads))),
               left_behind=int(left_behind), token=secrets.token_urlsafe(18), created_at=_iso(now))
    with private_db.conn:
        private_db["subscriptions"].insert(row)
    return find(private_db, email)


def find(private_db: sqlite_utils.Database, email_or_token: str) -> Subscription | None:
    """Return the subscription with this address or unsubscribe token, or None."""
    rows = list(private_db.query("select * from subscriptions where lower(email) = lower(?) or token = ?",
                                 [email_or_token.strip(), email_or_token.strip()]))
    return Subscription.from_row(rows[0]) if rows else None


def unsubscribe(private_db: sqlite_utils.Database, email_or_token: str) -> Subscription:
    """Stop all mail to an address (found by address or token); raise InputError when there is none."""
    sub = find(private_db, email_or_token)
    if not sub:
        raise InputError("no subscription with that address or token")
    with private_db.conn:
        private_db["subscriptions"].update(sub.id, {"active": 0})
    sub.active = False
    return sub


def active(private_db: sqlite_utils.Database) -> list[Subscription]:
    """Return the active subscriptions, oldest first."""
    return [Subscription.from_row(r) for r in private_db.query(
        "select * from subscriptions where active = 1 order by id")]


def all_subscriptions(private_db: sqlite_utils.Database) -> list[Subscription]:
    """Return every subscription, active or not."""
    return [Subscription.from_row(r) for r in private_db.query("select * from subscriptions order by id")]


def unsubscribe_url(settings: dict, sub: Subscription) -> str:
    """Return the subscriber's one-click unsubscribe link."""
    return f"{settings['unsubscribe_url']}?token={sub.token}"
