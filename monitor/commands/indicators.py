"""`run.py indicators`: the indicator table, its history, and one ward beside its groups."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from core.errors import InputError
from monitor.commands.group import ISO_DATE, cli
from monitor.indicators import history
from monitor.indicators.compute import compute, compute_and_store, measure
from monitor.indicators.table import format_table, format_ward
from monitor.indicators.ward_figure import ward_rows


def _rows_to_show(db, settings, now, at, window_from, window_to, recompute) -> list[dict]:
    """Return the rows asked for: a fresh window, a past computation, or the latest one."""
    if window_from or window_to:
        return compute(db, now, settings, window_from, window_to)  # a chosen window is shown, not stored
    if recompute:
        return compute_and_store(db, now, settings)
    computed_at = history.latest_computed_at(db, at)
    if computed_at is None:
        if at:
            raise InputError(f"no indicators were computed at or before {at}")
        return compute_and_store(db, now, settings)
    return history.rows_at(db, computed_at)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of rows instead of the table.")
@click.option("--at", "at", type=ISO_DATE, metavar="DATE", help="Show the latest computation at or before DATE.")
@click.option("--ward", "ward_code", metavar="CODE", help="Show one ward's figures beside its groups'.")
@click.option("--from", "window_from", type=ISO_DATE, metavar="DATE",
              help="Start of the grants and pub closures window.")
@click.option("--to", "window_to", type=ISO_DATE, metavar="DATE", help="End of the grants and pub closures window.")
@click.option("--recompute", is_flag=True, help="Compute now and store the result before showing it.")
@click.pass_obj
def indicators(obj, as_json, at, ward_code, window_from, window_to, recompute):
    """Show indicators per 100,000 people: left behind, other deprived, England.

    Example: python run.py indicators --ward E05008942
    """
    if at and ward_code:
        # Only area-group rows are kept as history; a ward's figures are computed from the records as they stand
        # today, so labelling them with an old date would be false.
        raise InputError("--at cannot be combined with --ward: a ward's figures are computed from today's records, "
                         "and only the area groups' figures are kept as history (use --at without --ward)")
    db = obj.public_db()
    now = datetime.now(UTC)  # the clock is read here, at the boundary, and nowhere below
    rows = _rows_to_show(db, obj.settings, now, at, window_from, window_to, recompute)
    if ward_code:
        ward_code = ward_code.strip().upper()
        m = measure(db, rows[0]["computed_at"], obj.settings, window_from, window_to)
        if ward_code not in m.wards:
            raise InputError(f"unknown ward code {ward_code!r} (expected a 2017 English ward code like E05008942)")
        england = {r["indicator"]: (r.get("ci_low"), r.get("ci_high")) for r in rows if r["area_group"] == "england"}
        mine = ward_rows(m, ward_code, int(obj.settings.get("min_reliable_count", 20)), england)
        if as_json:
            groups = [r for r in rows if r["area_group"] in m.wards[ward_code].groups]
            click.echo(json.dumps([history.public_row(r) for r in mine + groups], indent=2))
        else:
            click.echo(format_ward(m.wards[ward_code], mine, rows))
        return
    if as_json:
        click.echo(json.dumps([history.public_row(r) for r in rows], indent=2))
    else:
        click.echo(format_table(rows))
