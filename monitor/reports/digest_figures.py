"""The digest's indicator table: this week's figures, change since last week and since the first run, the gap."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import sqlite_utils

from monitor.delivery.outbox import _iso, to_datetime
from monitor.indicators.definitions import BY_NAME
from monitor.reports.digest_context import IndicatorRow


def is_money(indicator: str) -> bool:
    ind = BY_NAME.get(indicator)
    return ind.unit == "gbp" if ind else "gbp" in indicator


def label(indicator: str) -> str:
    ind = BY_NAME.get(indicator)   # a retired indicator still in the history gets a readable name
    return ind.label if ind else indicator.removesuffix("_per_100k").replace("_", " ").capitalize()


def fmt(indicator: str, value: float | None) -> str:
    if value is None:
        return "no data"
    if is_money(indicator):
        return f"£{value:,.0f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


def fmt_change(indicator: str, now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "–"
    delta = now - before
    if abs(delta) < (0.5 if is_money(indicator) else 0.005):
        return "no change"
    sign = "+" if delta > 0 else "−"
    return f"{sign}£{abs(delta):,.0f}" if is_money(indicator) else f"{sign}{abs(delta):.2f}"


def computations(db: sqlite_utils.Database, now) -> tuple[str | None, str | None, str | None]:
    """Return the computation shown (latest up to now), the one a week before it, and the first one."""
    until = _iso(now)
    latest = db.execute("select max(computed_at) from indicators where computed_at <= ?", [until]).fetchone()[0]
    if latest is None:
        return None, None, None
    week_ago = _iso(to_datetime(latest) - timedelta(days=7) + timedelta(hours=12))
    previous = db.execute("select max(computed_at) from indicators where computed_at <= ? and computed_at < ?",
                          [week_ago, latest]).fetchone()[0]
    first = db.execute("select min(computed_at) from indicators").fetchone()[0]
    return latest, previous, (first if first != latest else None)


def values_at(db: sqlite_utils.Database, computed_at: str | None) -> dict[tuple[str, str], dict]:
    """Return {(indicator, area_group): row} of one computation, coverage parsed."""
    if computed_at is None:
        return {}
    out = {}
    for r in db.query("select indicator, area_group, value, ci_low, ci_high, reliable, note, coverage, window_from, "
                      "window_to from indicators "
                      "where computed_at = ? and area_group in ('left_behind', 'other_deprived', 'england') "
                      "order by id", [computed_at]):
        r["coverage"] = json.loads(r["coverage"]) if r["coverage"] else {}
        out[(r["indicator"], r["area_group"])] = r
    return out


def _share(lb: float | None, eng: float | None) -> float | None:
    return None if lb is None or not eng else 100 * lb / eng


def _coverage_note(row: dict | None) -> str:
    cov = (row or {}).get("coverage") or {}
    share = cov.get("share_of_group_population")
    if row and row.get("value") is None and (row.get("note") or "").startswith("no "):
        return row["note"]                       # an empty window: "no grants recorded in the window (latest: …)"
    if row and row.get("value") is None:
        return "no data yet: the source has had no healthy crawl"
    archived = re.search(r"as of \S+ \(archived listing\)", cov.get("note") or "")
    if archived:
        return archived.group(0)
    if share is not None and share < 0.995:
        return f"covers {share:.0%} of England's population (healthy authorities only)"
    return ""


def _unit_note(row: dict | None) -> str:
    if row and row.get("window_from") and row.get("window_to"):
        return f"per 100,000 people, {row['window_from'][:10]} to {row['window_to'][:10]}"
    return "per 100,000 people"


def _interval(ind: str, row: dict | None) -> str:
    if not row or row.get("ci_low") is None:
        return ""
    return f"{fmt(ind, row['ci_low'])} to {fmt(ind, row['ci_high'])}"


def _placed(row: dict | None) -> float | None:
    return ((row or {}).get("coverage") or {}).get("resolved_share")


def _placed_text(row: dict | None) -> str:
    share, records = _placed(row), ((row or {}).get("coverage") or {}).get("records", 0)
    return "" if share is None else f"{share:.0%} of {records:,} records placed in a ward"


def change_with_placement(ind: str, now_row: dict | None, before_row: dict | None) -> str:
    """Return the change of a left-behind rate, labelled when a change in the share of records placed explains it.

    Rates count only records placed in a ward: if fewer could be placed this week, the rate falls although nothing
    in the world changed. Explained = the placed share moved by a point or more and the rate, scaled back to full
    placement (value / placed share), moved less than half as much as the raw rate.
    """
    now_v, before_v = (now_row or {}).get("value"), (before_row or {}).get("value")
    raw = fmt_change(ind, now_v, before_v)
    p_now, p_before = _placed(now_row), _placed(before_row)
    if raw in ("–", "no change") or not p_now or not p_before or abs(p_now - p_before) < 0.01:
        return raw
    adjusted = abs(now_v / p_now - before_v / p_before)
    if adjusted < abs(now_v - before_v) / 2:
        return f"{raw}, explained by records placed in a ward ({p_before:.0%} → {p_now:.0%}), not a change on the ground"
    return raw


def indicator_rows(db: sqlite_utils.Database, now) -> tuple[list[IndicatorRow], tuple]:
    """Return one table row per indicator, and the (shown, last week, first) computation times."""
    latest, previous, first = computations(db, now)
    cur, prev, base = values_at(db, latest), values_at(db, previous), values_at(db, first)
    names = list(dict.fromkeys(ind for ind, _ in cur))
    rows = []
    for ind in names:
        v = {g: (cur.get((ind, g)) or {}).get("value") for g in ("left_behind", "other_deprived", "england")}
        pv = {g: (prev.get((ind, g)) or {}).get("value") for g in ("left_behind", "england")}
        fv = (base.get((ind, "left_behind")) or {}).get("value")
        lb_row = cur.get((ind, "left_behind"))
        # Rows computed before intervals existed have no verdict (NULL): shown as they were.
        reliable = (lb_row or {}).get("reliable") in (None, 1, True) and v["left_behind"] is not None
        share, prev_share = _share(v["left_behind"], v["england"]), _share(pv["left_behind"], pv["england"])
        share_change = "–" if share is None or prev_share is None else (
            "no change" if abs(share - prev_share) < 0.05 else f"{share - prev_share:+.1f} pts")
        worse = ind in BY_NAME and BY_NAME[ind].more_is_worse
        rows.append(IndicatorRow(
            indicator=ind, label=label(ind), unit_note=_unit_note(cur.get((ind, "england"))),
            left_behind=fmt(ind, v["left_behind"]), other_deprived=fmt(ind, v["other_deprived"]),
            england=fmt(ind, v["england"]),
            lb_share="–" if share is None else f"{share:.0f}%" if reliable else "too few to say",
            lb_share_change_week=share_change if reliable else "–",
            lb_change_week=change_with_placement(ind, lb_row, prev.get((ind, "left_behind"))),
            lb_change_first=fmt_change(ind, v["left_behind"], fv),
            england_change_week=change_with_placement(ind, cur.get((ind, "england")), prev.get((ind, "england"))),
            gap_is_bad=reliable and share is not None and ((share > 105) if worse else (share < 95)),
            note=_coverage_note(cur.get((ind, "england"))), lb_interval=_interval(ind, lb_row),
            england_interval=_interval(ind, cur.get((ind, "england"))), reliable=reliable,
            reliability_note=(lb_row or {}).get("note") or "", placed=_placed_text(cur.get((ind, "england")))))
    return rows, (latest, previous, first)


def chart_series(db: sqlite_utils.Database, now) -> dict[str, dict]:
    """Return {indicator label: {area group: share of England %, "reliable": bool}} of the latest computation."""
    latest, _, _ = computations(db, now)
    cur = values_at(db, latest)
    out = {}
    for ind in dict.fromkeys(i for i, _ in cur):
        eng = (cur.get((ind, "england")) or {}).get("value")
        out[label(ind)] = {g: _share((cur.get((ind, g)) or {}).get("value"), eng)
                           for g in ("left_behind", "other_deprived")}
        # Rows computed before intervals existed have no verdict (NULL): drawn as they were.
        out[label(ind)]["reliable"] = (cur.get((ind, "left_behind")) or {}).get("reliable") in (None, 1)
    return out


def share_history(db: sqlite_utils.Database, now) -> dict[str, list[tuple[str, float]]]:
    """Return {indicator label: [(computed_at, left-behind share of England %)]} up to now, oldest first.

    Computations whose left-behind rate was not reliable ('too few to say') are left out.
    """
    out: dict[str, list[tuple[str, float]]] = {}
    for r in db.query("""select lb.computed_at, lb.indicator, lb.value lb, en.value en from indicators lb
                         join indicators en on en.computed_at = lb.computed_at and en.indicator = lb.indicator
                          and en.area_group = 'england'
                         where lb.area_group = 'left_behind' and lb.computed_at <= ?
                           and coalesce(lb.reliable, 1) = 1   -- a ratio from too few records is not a trend point
                         order by lb.computed_at""",
                      [_iso(now)]):
        share = _share(r["lb"], r["en"])
        if share is not None:
            out.setdefault(label(r["indicator"]), []).append((r["computed_at"], share))
    return out
