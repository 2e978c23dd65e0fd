"""Read-only questions the people's pages ask of the public database (a sqlite3 connection, no writes)."""
from __future__ import annotations

import json
import re
import sqlite3

from datasette.utils import tilde_encode

from db.schema import RECORD_TABLES
from monitor.indicators.compute import PER
from monitor.indicators.coverage import counted_sources, source_coverage
from monitor.indicators.definitions import INDICATORS, ward_tally_sql
from monitor.indicators.ward_figure import ward_figure
from monitor.reports.event_lines import KIND_LABELS
from spiders import registry

AREA_GROUPS = ("left_behind", "other_deprived", "england")
GROUP_LABELS = {"left_behind": "Left-behind wards", "other_deprived": "Other deprived wards", "england": "England"}
WARD_CODE = re.compile(r"^E05\d{6}$")
_PUNCTUATION = re.compile(r"[^a-z0-9]+")


def normalise_name(text: str) -> str:
    """Lower-case, '&' as 'and', every run of punctuation or space as one space: 'St. Mary's & X' ~ 'st marys and x'."""
    text = (text or "").lower().replace("&", " and ").replace("'", "").replace("\u2019", "")
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def row_path(db_name: str, table: str, pk) -> str:
    """Return the Datasette URL path of one row (primary keys tilde-encoded, as Datasette expects)."""
    return f"/{db_name}/{table}/{tilde_encode(str(pk))}"


def ward(conn: sqlite3.Connection, code: str) -> dict | None:
    found = _rows(conn, "select * from wards where code = ?", [code.strip().upper()])
    return found[0] if found else None


def wards_named(conn: sqlite3.Connection, query: str, limit: int = 50) -> list[dict]:
    """Return wards whose name, or whose local authority's name, matches the query ignoring case and punctuation."""
    wanted = normalise_name(query)
    if not wanted:
        return []
    conn.create_function("lbm_norm", 1, normalise_name, deterministic=True)
    return _rows(conn, """select code, name, lad_code, lad_name, left_behind from wards
                          where lbm_norm(name) like '%' || ? || '%' or lbm_norm(lad_name) = ?
                          order by lbm_norm(name) != ?, left_behind desc, name limit ?""",
                 [wanted, wanted, wanted, limit])


def ward_figures(conn: sqlite3.Connection, code: str, population: int | None, min_count: int = 20) -> list[dict]:
    """Return, per indicator, the ward's own figure beside the latest value of each area group (and its interval).

    The ward's numerator is counted from the indicator's own definition, over the window of the latest
    computation (monitor/indicators/definitions.py), so it matches what the area groups count, and it is judged
    by the same rules (monitor/indicators/ward_figure.py): a 95% interval, "too few to say" under min_count
    records or when it overlaps England's, and no data (never zero) where the source did not cover the ward,
    where the area groups have no figure either, or where the ward has no record to count."""
    columns = {r[1] for r in conn.execute("pragma table_info(indicators)")}
    extra = ", ".join(c for c in ("ci_low", "ci_high", "reliable", "note", "window_from", "window_to")
                      if c in columns)
    latest = conn.execute("select max(computed_at) from indicators").fetchone()[0]
    groups: dict[tuple[str, str], dict] = {}
    if latest:
        for r in _rows(conn, f"select indicator, area_group, value{', ' + extra if extra else ''} from indicators "
                             "where computed_at = ?", [latest]):
            groups[(r["indicator"], r["area_group"])] = r
    covered = _covered(conn, code)
    out = []
    for ind in INDICATORS:
        england = groups.get((ind.name, "england")) or {}
        tally = _ward_tally(conn, ind, code, england.get("window_from"), england.get("window_to")) \
            if covered.get(ind.source) and england.get("value") is not None else None
        numerator, records, squares = tally or (None, 0, 0.0)
        figure = ward_figure(ind, numerator, records, squares, population,
                             (england.get("ci_low"), england.get("ci_high")), min_count)
        out.append({"indicator": ind.name, "label": ind.label, "unit": ind.unit, "count": numerator,
                    "records": records, "per": PER, "ward_rate": figure["value"], "ward": figure,
                    "groups": {g: groups.get((ind.name, g)) for g in AREA_GROUPS}})
        out[-1]["interval"] = any(v and v.get("ci_low") is not None for v in out[-1]["groups"].values())
    return out


def _covered(conn: sqlite3.Connection, code: str) -> dict[str, bool]:
    """Say, per counted source, whether its latest healthy crawl covered the ward (monitor/indicators/coverage.py)."""
    row = conn.execute("select lad_code from wards where code = ?", [code]).fetchone()
    if not row or not {"scope_runs", "crawl_runs"} <= {r[0] for r in conn.execute(
            "select name from sqlite_master where type = 'table'")}:
        return {}
    return {name: source_coverage(conn, s, {row[0]: {code}}).covers(code) for name, s in counted_sources().items()}


def _ward_tally(conn, ind, code: str, window_from: str | None, window_to: str | None) -> tuple | None:
    """Return the ward's (numerator, records, Σ measure²) for the indicator, or None when it cannot be counted."""
    table = registry.tables().get(ind.source)
    if not table or (ind.window and not (window_from and window_to)):
        return None   # a windowed figure before any computation has no window to count in
    sql = ward_tally_sql(ind, table, ":ward", ":wf", ":wt")
    try:
        return tuple(conn.execute(sql, {"ward": code, "wf": window_from, "wt": window_to}).fetchone())
    except sqlite3.OperationalError:  # a column a fresh table does not have yet
        return None


def ward_records(conn: sqlite3.Connection, code: str, db_name: str) -> dict[str, list[dict]]:
    """Return the ward's records per table (pubs, libraries, groups, grants, news), each with its Datasette link."""
    out = {}
    for table in RECORD_TABLES:
        cols = {r[1] for r in conn.execute(f"pragma table_info({table})")}
        extra = ", ".join(c for c in ("kind", "venue_kind", "business_type", "amount", "award_date", "funder_name",
                                          "closed_at") if c in cols)
        rows = _rows(conn, f"select id, name, status, source, source_url{', ' + extra if extra else ''} "
                           f"from {table} where ward_code = ? order by status = 'closed', name limit 200", [code])
        for r in rows:
            r["href"] = row_path(db_name, table, r["id"])
            r["kind"] = r.get("venue_kind") or r.get("kind") or r.get("business_type")
        out[table] = sorted(rows, key=lambda r: (r["status"] == "closed", r["kind"] or "", r["name"] or ""))
    return out


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"pragma table_info({table})")}


def event_label(kind: str, backfill: bool = False, closed_on: str | None = None) -> str:
    """Say what an event is; a closure the source dates long before the crawl was reported late, not just now."""
    label = KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())
    if backfill:
        label += f" (reported late{'; dated ' + closed_on[:10] if closed_on else ''})"
    return label


def events(conn: sqlite3.Connection, db_name: str, ward_code: str | None = None, left_behind: bool = False,
           limit: int = 50) -> list[dict]:
    """Return the events since monitoring began, newest first, for one ward or all left-behind wards, with links.

    A source's first crawl (`baseline`) only lists what was already there: those events are left out here and
    counted by baseline_count(). So are `changed` events (a corrected address is not news)."""
    where, params = ("e.ward_code = ?", [ward_code]) if ward_code else ("w.left_behind = 1", [])
    have = _columns(conn, "events")
    extra = "".join(f", e.{c}" if c in have else f", null as {c}" for c in ("backfill", "closed_on"))
    rows = _rows(conn, f"""select e.id, e.kind, e.source, e.record_id, e.name, e.ward_code, e.at, w.name as ward_name,
                                  e.evidence {extra}
                           from events e join wards w on w.code = e.ward_code
                           where {where} and coalesce(e.baseline, 0) = 0 and e.kind != 'changed'
                           order by e.at desc, e.id desc limit ?""", [*params, limit])
    for r in rows:
        r["label"] = event_label(r["kind"], bool(r["backfill"]), r["closed_on"])
        if r["kind"] == "announced":   # a warning: say what was announced ("to close in 2024")
            told = (json.loads(r["evidence"] or "{}") or {}).get("announced")
            r["label"] += f" ({told})" if told else ""
        r["href"] = row_path(db_name, "events", r["id"])
        table = registry.tables().get(r["source"])
        r["record_href"] = row_path(db_name, table, r["record_id"]) if table and r["record_id"] else None
    return rows


def baseline_count(conn: sqlite3.Connection, code: str) -> int:
    """Count the ward's records listed by a source's first crawl (when monitoring of that source began)."""
    return conn.execute("select count(*) from events where ward_code = ? and baseline = 1", [code]).fetchone()[0]


def timeline(conn: sqlite3.Connection, code: str) -> list[tuple[str, str, int]]:
    """Return (year, kind, count) of the ward's events since monitoring began, oldest year first, for the chart."""
    return [tuple(r) for r in conn.execute(
        "select substr(at, 1, 4), kind, count(*) from events where ward_code = ? and at is not null "
        "and coalesce(baseline, 0) = 0 and kind != 'changed' group by 1, 2 order by 1", [code])]


def coverage(conn: sqlite3.Connection) -> list[dict]:
    """Return, per source, its last healthy crawl and its last crawl, each dated by the crawl's own clock.

    A crawl's clock (`now`) is the date its data is as of; started_at is the machine's wall clock, which in a
    replay or a late re-run says nothing about the data. A healthy crawl is one with a healthy scope."""
    when = "coalesce(c.now, c.started_at)"
    healthy = "exists (select 1 from scope_runs s where s.crawl_id = c.id and s.healthy = 1)"
    return _rows(conn, f"""select c.source, max(case when {healthy} then {when} end) as healthy_at,
                                  max({when}) as last_crawl, sum({healthy}) as ok_crawls, count(*) as crawls
                           from crawl_runs c group by c.source order by c.source""")


def data_as_of(sources: list[dict]) -> str | None:
    """Return the date the ward's data is as of: the latest healthy crawl's own clock (None before any)."""
    dates = [s["healthy_at"] for s in sources if s["healthy_at"]]
    return max(dates)[:10] if dates else None
