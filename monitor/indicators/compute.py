"""Indicators per 100,000 residents for the left-behind wards and their comparators, coverage-aware.

Numerator = records resolved to covered wards of the group; population = those wards' population.
SQL aggregates the records by ward (monitor/indicators/tally.py); the groups are sums over the ~7,400 wards.
Pure: `now` is passed in; nothing here reads the clock.
"""
from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlite_utils

from core.errors import ConfigError
from monitor.indicators.area_groups import AREA_GROUPS, Ward, group_totals, load_wards
from monitor.indicators.coverage import Coverage, counted_sources, source_coverage
from monitor.indicators.definitions import BY_NAME, INDICATORS, Indicator, within  # noqa: F401  (re-exported)
from monitor.indicators.intervals import money_interval, overlaps, poisson_interval
from monitor.indicators.tally import Tally, tally_source
from spiders import registry

PER = 100_000




@dataclass
class Measurement:
    """Everything one computation found: per-indicator tallies and per-source coverage."""
    computed_at: str
    window: dict[str, str]
    since: dict[str, str]         # each "since" setting the indicators name -> its date
    wards: dict[str, Ward]
    coverage: dict[str, Coverage]
    tallies: dict[str, Tally]


def as_datetime(now: datetime | str) -> datetime:
    return now if isinstance(now, datetime) else datetime.fromisoformat(now)


def as_day(value: date | datetime | str) -> str:
    """Return a date as YYYY-MM-DD."""
    if isinstance(value, str):
        return value[:10]
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def default_window(now: datetime, settings: dict) -> tuple[str, str]:
    """Return the grants/closures window: the `grants_window_days` days before now."""
    return as_day(now - timedelta(days=int(settings["grants_window_days"]))), as_day(now)


def measure(db: sqlite_utils.Database, now: datetime | str, settings: dict,
            window_from: str | date | None = None, window_to: str | date | None = None) -> Measurement:
    """Tally every indicator by ward, with each source's coverage."""
    now = as_datetime(now)
    dflt_from, dflt_to = default_window(now, settings)
    window = {"window_from": as_day(window_from) if window_from else dflt_from,
              "window_to": as_day(window_to) if window_to else dflt_to}
    since = {i.since: as_day(settings[i.since]) for i in INDICATORS if i.window == "since"}
    window["window_end"] = as_day(date.fromisoformat(window["window_to"]) + timedelta(days=1))
    wards = load_wards(db)
    by_lad: dict[str, set[str]] = defaultdict(set)
    for w in wards.values():
        by_lad[w.lad_code].add(w.code)
    coverage, tallies = {}, {}
    for source in counted_sources().values():
        coverage[source.name] = cov = source_coverage(db, source, by_lad)
        own = [i for i in INDICATORS if i.source == source.name]
        dates = {since[i.since] for i in own if i.window == "since"}   # one :since parameter per source's queries
        if len(dates) > 1:
            raise ConfigError(f"the {source.name} source's 'since' indicators start on different dates: {sorted(dates)}")
        tallies.update(tally_source(db, source, cov, dict(window, since=dates.pop() if dates else "0000"), own))
    return Measurement(now.isoformat(timespec="seconds"), window, since, wards, coverage, tallies)


def rate(numerator: float | None, population: int | None) -> float | None:
    """Return numerator per 100,000 people, or None when there are no people to divide by."""
    if numerator is None or not population:
        return None
    return numerator * PER / population


def covered_totals(m: Measurement, cov: Coverage) -> dict[str, tuple[int, int]]:
    """Return (wards, population) per area group over the wards a source covered."""
    if not cov.has_data:
        return {g: (0, 0) for g in AREA_GROUPS}
    if cov.wards is None:
        return group_totals(m.wards)
    return group_totals({c: m.wards[c] for c in cov.wards if c in m.wards})


@dataclass
class GroupSums:
    """An indicator's numerator, record count and Σ measure² per area group, over the covered wards."""
    numerator: dict[str, float]
    records: dict[str, int]
    squares: dict[str, float]
    outside: int


def numerators_by_group(m: Measurement, cov: Coverage, tally: Tally) -> GroupSums:
    """Sum each group's numerator over covered wards, and count the resolved records that fell outside them."""
    sums = GroupSums(dict.fromkeys(AREA_GROUPS, 0.0), dict.fromkeys(AREA_GROUPS, 0),
                     dict.fromkeys(AREA_GROUPS, 0.0), 0)
    for code, value in tally.numerator.items():
        if code is None:
            continue
        ward = m.wards.get(code)
        if ward is None or not cov.covers(code):
            sums.outside += tally.records[code]
            continue
        for g in ward.groups:
            sums.numerator[g] += value
            sums.records[g] += tally.records[code]
            sums.squares[g] += tally.squares.get(code) or 0.0
    return sums


def counted_noun(n: int, noun: str) -> str:
    """'1 grant', '3 grants', '1 pub or bar closure', '1 library' from the plural noun."""
    if n != 1:
        return f"{n} {noun}"
    def one(word: str) -> str:
        return word[:-3] + "y" if word.endswith("ies") else word[:-1] if word.endswith("s") else word
    return "1 " + " or ".join(one(part) for part in noun.split(" and "))   # "pubs and bars": 1 pub or bar


def interval(ind: Indicator, sums: GroupSums, g: str, population: int) -> tuple[float | None, float | None]:
    """Return the 95% interval of a group's rate, in the rate's unit."""
    if ind.unit == "gbp":
        low, high = money_interval(sums.numerator[g], sums.squares[g])
    else:
        low, high = poisson_interval(sums.numerator[g])
    return rate(low, population), rate(high, population)


def indicator_rows(m: Measurement, ind: Indicator, totals: dict[str, tuple[int, int]],
                   covered: dict[str, tuple[int, int]], min_count: int = 20,
                   latest: str | None = None) -> list[dict]:
    """Return an indicator's row for each area group, over the wards its source covered (`covered` totals)."""
    cov, tally = m.coverage[ind.source], m.tallies[ind.name]
    sums = numerators_by_group(m, cov, tally)
    records = sum(tally.records.values())
    resolved = records - tally.records.get(None, 0)
    win_from = {"window": m.window["window_from"], "since": m.since.get(ind.since)}.get(ind.window)
    empty = bool(ind.window) and cov.has_data and records == 0
    rows = []
    for g in AREA_GROUPS:
        n_wards, population = covered[g]
        has_data = cov.has_data and n_wards > 0 and not empty
        note = cov.note() + ("; no covered wards in this group" if cov.has_data and not n_wards else "")
        coverage = {"wards": n_wards, "population": population,
                    "share_of_group_population": round(population / totals[g][1], 4) if totals[g][1] else 0.0,
                    "records": records, "resolved_share": round(resolved / records, 4) if records else None,
                    "outside_coverage": sums.outside, "note": note, "group_records": sums.records[g]}
        if ind.excluded:
            coverage["excluded_non_gbp"] = tally.excluded
        numerator = (int(sums.numerator[g]) if ind.measure == "1" else sums.numerator[g]) if has_data else None
        low, high = interval(ind, sums, g, population) if has_data else (None, None)
        reason = ""
        if empty:
            reason = f"no {ind.noun} recorded in the window" + (f" (latest: {latest[:10]})" if latest
                                                                  else " (none ever recorded)")
        elif has_data and sums.records[g] < min_count:
            reason = f"too few to say: {counted_noun(sums.records[g], ind.noun)} (fewer than {min_count})"
        rows.append({"indicator": ind.name, "area_group": g, "numerator": numerator,
                     "population": population if has_data else None, "value": rate(numerator, population),
                     "ci_low": low, "ci_high": high, "reliable": has_data and not reason, "note": reason,
                     "coverage": coverage, "computed_at": m.computed_at, "window_from": win_from,
                     "window_to": m.window["window_to"] if ind.window else None})
    _compare_with_england(rows)
    return rows


def _compare_with_england(rows: list[dict]) -> None:
    """A left-behind figure whose interval overlaps England's cannot say it differs: not reliable as a gap."""
    by_group = {r["area_group"]: r for r in rows}
    lb, england = by_group.get("left_behind"), by_group.get("england")
    if not lb or not england or not lb["reliable"]:
        return
    if overlaps((lb["ci_low"], lb["ci_high"]), (england["ci_low"], england["ci_high"])):
        lb["reliable"] = False
        lb["note"] = "too few to say: its interval overlaps England's"


def archived_note(db: sqlite_utils.Database, crawl_id: int, frozen: dict) -> str:
    """Return 'as of DATE (archived listing)': the date of the listing the figures come from."""
    crawled = db.execute("select now from crawl_runs where id = ?", [crawl_id]).fetchone()
    listing = (frozen or {}).get("last_listing") or (crawled[0] if crawled else "")
    return f"as of {str(listing)[:10]} (archived listing)"


# Every date passes: the indicator's own condition without its window, to find its latest record at any date.
ALL_DATES = {"window_from": "0000", "window_to": "9999-12-31", "window_end": "9999-12-31", "since": "0000",
             "crawl_id": None}


def latest_dates(db: sqlite_utils.Database) -> dict[str, str | None]:
    """Return the date of each windowed indicator's own latest record (a social club's closure, not any venue's)."""
    out = {}
    for ind in INDICATORS:
        if ind.dated_by:
            table = counted_sources()[ind.source].table
            if db[table].exists() and ind.dated_by in db[table].columns_dict:
                try:
                    out[ind.name] = db.execute(f"select max(r.{ind.dated_by}) from [{table}] r where r.source = "
                                               f":source and {ind.where(table)}",
                                               dict(ALL_DATES, source=ind.source)).fetchone()[0]
                except sqlite3.OperationalError:   # a column a fresh table does not have yet: nothing recorded
                    out[ind.name] = None
    return out


def compute(db: sqlite_utils.Database, now: datetime | str, settings: dict,
            window_from: str | date | None = None, window_to: str | date | None = None) -> list[dict]:
    """Return one row per indicator and area group; store nothing."""
    m = measure(db, now, settings, window_from, window_to)
    totals = group_totals(m.wards)
    covered = {name: covered_totals(m, cov) for name, cov in m.coverage.items()}
    min_count, latest = int(settings.get("min_reliable_count", 20)), latest_dates(db)
    for source, frozen in registry.frozen(settings).items():
        cov = m.coverage.get(source)
        if cov is not None and cov.has_data:
            cov.archived = archived_note(db, cov.crawl_id, frozen)
    return [row for ind in INDICATORS
            for row in indicator_rows(m, ind, totals, covered[ind.source], min_count, latest.get(ind.name))]


def compute_and_store(db: sqlite_utils.Database, now: datetime | str, settings: dict) -> list[dict]:
    """Compute every indicator with the default windows and append the rows to `indicators`."""
    rows = compute(db, now, settings)
    stored = [dict(r, coverage=json.dumps(r["coverage"], sort_keys=True)) for r in rows]
    with db.conn:
        # Recomputing at the same instant replaces that computation instead of doubling it.
        db.execute("DELETE FROM indicators WHERE computed_at = ?", [rows[0]["computed_at"]])
        db["indicators"].insert_all(stored)
    return rows
