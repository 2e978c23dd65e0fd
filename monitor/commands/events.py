"""The events command: list new, changed, closed, announced and reopened records, with the crawl and evidence behind each."""
from __future__ import annotations

import json

import click

from core.errors import InputError
from monitor.commands.group import ISO_DATE, cli

KINDS = ("new", "changed", "closed", "announced", "reopened", "changed_hands", "source_failing")


def query_events(db, kind=None, source=None, since=None, ward=None, limit=None) -> list[dict]:
    """Return events, newest first, filtered; each with left_behind from its ward and evidence parsed."""
    where, params = [], []
    for column, value in (("e.kind", kind), ("e.source", source), ("e.ward_code", ward)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if since:
        where.append("e.at >= ?")
        params.append(since)
    sql = ("select e.kind, e.source, e.ref, e.name, e.ward_code, w.name as ward_name, w.left_behind, e.at, "
           "e.crawl_id, e.evidence, e.baseline from events e left join wards w on w.code = e.ward_code "
           + (("where " + " and ".join(where)) if where else "") + " order by e.at desc, e.id desc"
           + (f" limit {int(limit)}" if limit else ""))
    rows = []
    for r in db.query(sql, params):
        r["left_behind"] = bool(r["left_behind"]) if r["left_behind"] is not None else None
        r["evidence"] = json.loads(r["evidence"]) if r["evidence"] else None
        rows.append(r)
    return rows


def table_line(r: dict) -> str:
    ward = f"{r['ward_name']} ({r['ward_code']})" if r["ward_code"] else "ward unknown"
    flag = " [left behind]" if r["left_behind"] else ""
    base = " baseline" if r["baseline"] else ""
    rule = (r["evidence"] or {}).get("rule", "")
    return (f"{r['at'][:16]:16}  {r['kind']:8}{base:9}  {r['source']:12}  {(r['name'] or '')[:40]:40}  "
            f"{ward}{flag}  crawl {r['crawl_id']}  {rule}")


@cli.command()
@click.option("--kind", type=click.Choice(KINDS), help="Only events of this kind.")
@click.option("--source", help="Only events of this source (fhrs_pubs, libraries, ...).")
@click.option("--since", type=ISO_DATE, help="Only events at or after this date (YYYY-MM-DD).")
@click.option("--ward", help="Only events in this 2017 ward (code).")
@click.option("--limit", type=int, default=None, help="At most this many events.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON objects instead of a table.")
@click.pass_obj
def events(obj, kind, source, since, ward, limit, as_json):
    """List events (new, changed, closed, announced, reopened), newest first, with the crawl and evidence behind each.

    Example: python run.py events --kind closed --source fhrs_pubs --since 2024-01-01
    """
    db = obj.public_db()
    if ward and not db["wards"].count_where("code = ?", [ward]):
        raise InputError(f"unknown ward code {ward!r} (2017 ward codes look like E05000026)")
    rows = query_events(db, kind, source, since, ward, limit)
    if as_json:
        keys = ("kind", "source", "ref", "name", "ward_code", "left_behind", "at", "crawl_id", "evidence")
        click.echo(json.dumps([{k: r[k] for k in keys} for r in rows], indent=1, ensure_ascii=False))
        return
    if not rows:
        click.echo("No events.")
        return
    for r in rows:
        click.echo(table_line(r))
    click.echo(f"{len(rows)} events.")
