"""The same place under another name: normalised addresses and postcodes, and how old a source's date is.

A pub that changes hands is dropped from the food hygiene register under its old FHRSID and listed under a new one
at the same address; comparing normalised address and postcode tells the two apart from a closure. Registered as
SQLite functions (lbm_norm_*, lbm_older_than, lbm_after, lbm_backfill) so the closures step stays set-based SQL.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

_WORDS = {"and": "and", "&": "and", "st": "street", "rd": "road", "ave": "avenue", "ln": "lane"}
_NON_ALNUM = re.compile(r"[^a-z0-9&]+")


def normalise_address(value: str | None) -> str | None:
    """Return an address reduced to lower-case words, '&' as 'and', common abbreviations spelt out."""
    if not value:
        return None
    words = [_WORDS.get(w, w) for w in _NON_ALNUM.sub(" ", str(value).lower().replace("&", " & ")).split()]
    return " ".join(words) or None


def normalise_postcode(value: str | None) -> str | None:
    text = re.sub(r"\s+", "", str(value or "")).upper()
    return text or None


def latest_possible_day(value: str | None) -> date | None:
    """Return the last day a source's date could mean: '2015' -> 2015-12-31, '2015-03' -> 2015-03-31."""
    text = str(value or "").strip()
    m = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
    if not m:
        return None
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    if day:
        return date(year, int(month), int(day))
    if month:
        nxt = date(year + (int(month) == 12), int(month) % 12 + 1, 1)
        return nxt - timedelta(days=1)
    return date(year, 12, 31)


def older_than(value: str | None, now: str, days: int) -> int:
    """1 when the source's date (at its latest possible day) is more than `days` before `now`, else 0."""
    day = latest_possible_day(value)
    if day is None:
        return 0
    today = datetime.fromisoformat(str(now)[:19]).date()
    return int(day < today - timedelta(days=int(days)))


def earliest_possible_day(value: str | None) -> date | None:
    """Return the first day a source's date could mean: '2024' -> 2024-01-01, '2024-03' -> 2024-03-01."""
    m = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", str(value or "").strip())
    if not m:
        return None
    return date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))


def after(value: str | None, now: str) -> int:
    """1 when the source's date (at its earliest possible day) is after `now`: a closure announced, not made."""
    day = earliest_possible_day(value)
    return int(day is not None and day > datetime.fromisoformat(str(now)[:19]).date())


def backfill(source_date: str | None, window_from: str | None, now: str, days: int) -> int:
    """1 when a change is old news: the source's date, where it gives one, else the start of the observation window
    (the last date the place was seen as it was), lies more than `days` before `now`, or neither is known."""
    if latest_possible_day(source_date) is not None:
        return older_than(source_date, now, days)
    if latest_possible_day(window_from) is None:
        return 1   # never seen otherwise: nobody could have known it as it was
    return older_than(window_from, now, days)


def register(conn) -> None:
    """Make the functions available to SQL on this connection."""
    conn.create_function("lbm_norm_address", 1, normalise_address, deterministic=True)
    conn.create_function("lbm_norm_postcode", 1, normalise_postcode, deterministic=True)
    conn.create_function("lbm_older_than", 3, older_than, deterministic=True)
    conn.create_function("lbm_after", 2, after, deterministic=True)
    conn.create_function("lbm_backfill", 4, backfill, deterministic=True)
