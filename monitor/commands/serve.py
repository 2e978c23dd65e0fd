"""`run.py serve`: Datasette over the public database plus the people's pages (monitor/web/), on one port.

`run.py serve-unsubscribe` is another name for it: the unsubscribe links are answered there now.
"""
from __future__ import annotations

import signal
import sys
import tempfile
from pathlib import Path

import click

from db.serve import start, wait_until_ready
from monitor.commands.group import cli
from monitor.indicators.definitions import ward_numerators_case
from spiders import registry


@cli.command()
@click.option("--port", default=8001, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 makes it reachable from other machines.")
@click.option("--immutable", is_flag=True,
              help="Open the file as immutable: faster, but only for a copy nothing writes to any more.")
@click.pass_obj
def serve(obj, port, host, immutable):
    """Serve the public site: Datasette (read-only) plus the people's pages (/wards, feeds, subscribe, unsubscribe).

    The private database is never served; only the subscription pages write to it, by token.
    Example: python run.py serve --port 8001
    """
    # A SIGTERM to this process must stop Datasette too, so turn it into an exit that runs the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="lbm-datasette-") as folder:
        process = start(obj.db_path, Path(folder), host, port, immutable, obj.private_db_path,
                        memory_mb=obj.settings.get("serve_memory_mb", 0), config_path=obj.config_path,
                        provenance=registry.table_provenance(), fragments=query_fragments())
        url = f"http://{host}:{port}"
        try:
            wait_until_ready(process, url)
            click.echo(f"Datasette: {url}/{Path(obj.db_path).stem}   Find a ward: {url}/wards  (Ctrl-C to stop)")
            process.wait()
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)


# The unsubscribe links used to have their own server; `serve` answers them now (the old name still works).
cli.add_command(serve, "serve-unsubscribe")


def query_fragments() -> dict[str, str]:
    """The canned queries' generated parts: the ward's numerators from the indicators' definitions, and the
    records' columns and rows from what each source declares of its record table."""
    return {"ward_numerator": ward_numerators_case(registry.tables()), "closed_record": closed_record_sql(),
            "ward_records": ward_records_sql()}


def closed_record_sql() -> str:
    """Return recent_closures.sql's record columns: the venue kind, closed_at and closed_by from the places' tables."""
    places = [t for t in registry.tables_of_sources() if t.place_kind]

    def first(expr: str, tables) -> str:
        return "coalesce(" + ", ".join([*(f"(select {expr} from [{t.name}] r where r.id = e.record_id)"
                                          for t in tables), "null"]) + ")"
    return (f"{first('venue_kind', [t for t in places if t.venue_kind != 'null'])} as venue_kind,\n"
            f"    {first('closed_at', places)} as closed_at,\n    {first('closed_by', places)} as closed_by,")


def ward_records_sql() -> str:
    """Return ward_profile.sql's records part: each source's rows in the ward, in its own words."""
    parts, done = [], set()
    for s in registry.ranked():
        if s.ward_profile and s.table not in done:
            done.add(s.table)
            section, item, date, detail = s.ward_profile
            parts.append(f"select {len(parts) + 2}, {section}, {item}, status, {date}, {detail},\n"
                         f"           null, null, null, null, null, null, null, id\n"
                         f"    from [{s.table}] where ward_code = :ward")
    return "\n    union all\n    ".join(parts) or "select 2, null, null, null, null, null, null, null, null, " \
        "null, null, null, null, null where 0"
