"""Read-only questions the people's pages ask of the public database (a sqlite3 connection, no writes)."""
from __future__ import annotations

import json
import re
import sqlite3

from datasette.utils import tilde_encode

from db.schema import RECORD_TABLES
from monitor.indicators.compute import PER, rate
from monitor.indicators.coverage import counted_sources, source_coverage
from monitor.indicators.definitions import INDICATORS, ward_numerator_sql
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


def ward_figures(conn: sqlite3.Connection, code: str, population: int | None) -> list[dict]:
    """Return, per indicator, the ward's own rate beside the latest value of each area group (and its interval).

    The ward's numerator is counted from the indicator's own definition, over the window of the latest
    computation (monitor/indicators/definitions.py), so it matches what the area groups count. It is None (no
    data, never zero) where the source did not cover the ward (an authority it has no healthy crawl of) or where
    the area groups have no figure either (no healthy crawl yet, or nothing in the window)."""
    columns = {r[1] for r in conn.execute("pragma table_info(indicators)")}
    interval = "ci_low" in columns and "ci_high" in columns  # intervals exist once the indicators carry them
    windows = "window_from" in columns
    latest = conn.execute("select max(computed_at) from indicators").fetchone()[0]
    groups: dict[tuple[str, str], dict] = {}
    if latest:
        extra = (", ci_low, ci_high" if interval else "") + (", window_from, window_to" if windows else "")
        for r in _rows(conn, f"select indicator, area_group, value{extra} from indicators where computed_at = ?",
                       [latest]):
            groups[(r["indicator"], r["area_group"])] = r
    covered = _covered(conn, code)
    out = []
    for ind in INDICATORS:
        england = groups.get((ind.name, "england")) or {}
        count = _ward_count(conn, ind, code, england.get("window_from"), england.get("window_to")) \
            if covered.get(ind.source) and england.get("value") is not None else None
        out.append({"indicator": ind.name, "label": ind.label, "unit": ind.unit, "count": count, "per": PER,
                    "ward_rate": rate(count, population) if count is not None else None,
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


def _ward_count(conn, ind, code: str, window_from: str | None, window_to: str | None) -> float | None:
    table = registry.tables().get(ind.source)
    if not table or (ind.window and not (window_from and window_to)):
        return None   # a windowed figure before any computation has no window to count in
    sql = ward_numerator_sql(ind, table, ":ward", ":wf", ":wt")
    try:
        return conn.execute(f"select {sql}", {"ward": code, "wf": window_from, "wt": window_to}).fetchone()[0]
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


def events(conn: sqlite3.Connection, db_name: str, ward_code: str | None = None, left_behind: bool = False,
           limit: int = 50) -> list[dict]:
    """Return events newest first, for one ward or for all left-behind wards, each with its links."""
    where, params = ("e.ward_code = ?", [ward_code]) if ward_code else ("w.left_behind = 1", [])
    # A `changed` event (a name or postcode spelt anew) is bookkeeping, not news of the place: left out.
    rows = _rows(conn, f"""select e.id, e.kind, e.source, e.record_id, e.name, e.ward_code, e.at, w.name as ward_name,
                                  e.evidence
                           from events e join wards w on w.code = e.ward_code where {where} and e.kind != 'changed'
                           order by e.at desc, e.id desc limit ?""", [*params, limit])
    for r in rows:
        r["label"] = KIND_LABELS.get(r["kind"], r["kind"].title())
        if r["kind"] == "announced":   # a warning: say what was announced ("to close in 2024")
            told = (json.loads(r["evidence"] or "{}") or {}).get("announced")
            r["label"] += f" ({told})" if told else ""
        r["href"] = row_path(db_name, "events", r["id"])
        table = registry.tables().get(r["source"])
        r["record_href"] = row_path(db_name, table, r["record_id"]) if table and r["record_id"] else None
    return rows


def timeline(conn: sqlite3.Connection, code: str) -> list[tuple[str, str, int]]:
    """Return (year, kind, count) of the ward's events, oldest year first, for the chart."""
    return [tuple(r) for r in conn.execute(
        "select substr(at, 1, 4), kind, count(*) from events where ward_code = ? and at is not null "
        "and kind != 'changed' "
        "group by 1, 2 order by 1", [code])]


def coverage(conn: sqlite3.Connection, code: str) -> list[dict]:
    """Return, per source, the last crawl of the ward's scope and whether it was healthy."""
    return _rows(conn, """select c.source, max(c.started_at) as last_crawl,
                                 sum(c.status = 'ok') as ok_crawls, count(*) as crawls
                          from crawl_runs c group by c.source order by c.source""")
