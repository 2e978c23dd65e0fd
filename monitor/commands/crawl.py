"""The crawl command: run one source (or all) through the whole crawl job and print a one-line summary."""
from __future__ import annotations

from datetime import UTC, datetime

import click

from core.errors import InputError
from monitor.commands.group import ISO_DATE, cli
from monitor.scheduling.jobs import crawl_job, summary_line
from spiders import registry
from spiders.crawl import known_sources


@cli.command()
@click.argument("name", required=False)
@click.option("--all", "run_all", is_flag=True, help="Run every enabled source in turn.")
@click.option("--start-url", help="Fetch from here instead of the live source (a replay server, say).")
@click.option("--now", type=ISO_DATE, help="The date and time the crawl counts as (ISO); default: the current time.")
@click.option("--no-alerts", is_flag=True, help="Do not send alerts after the crawl.")
@click.pass_obj
def crawl(obj, name, run_all, start_url, now, no_alerts):
    """Crawl a source, then record changes and closures, recompute indicators and send alerts.

    Example: python run.py crawl mutual_aid --start-url http://127.0.0.1:8765/api/group/get
    """
    if bool(name) == run_all:
        raise InputError(f"name one source or give --all; sources: {', '.join(known_sources())}")
    if run_all and start_url:
        raise InputError("--start-url goes with one source, not --all")
    sources = registry.enabled(obj.settings) if run_all else [name]
    now = now or datetime.now(UTC).isoformat(timespec="seconds")
    failed = 0
    for source in sources:
        result = crawl_job(obj.settings, obj.db_path, obj.private_db_path, source, now, start_url=start_url,
                           config_path=obj.config_path, send=not no_alerts)
        click.echo(summary_line(result))
        failed += result.crawl.status == "failed"
    if failed:
        raise SystemExit(1)
