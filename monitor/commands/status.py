"""The `status` command: is everything running, and does anything need a person?"""
from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from monitor.commands.group import ISO_DATE, cli
from monitor.scheduling.status import status as gather


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option("--now", "now_text", type=ISO_DATE, default=None, help="Judge as of this ISO time (default: now).")
@click.pass_obj
def status(obj, as_json, now_text):
    """Show each job's last and next run, each source's health, the outbox and the operator's queue.

    Exits 1 when something needs a person, so cron or a monitoring check can act on it.

    Example: python run.py status
    """
    now = now_text or datetime.now(UTC).isoformat(timespec="seconds")
    s = gather(obj.public_db(), obj.private_db(), obj.settings, now)
    if as_json:
        click.echo(json.dumps(s, indent=2))
    else:
        click.echo("Jobs:")
        for j in s["jobs"]:
            click.echo(f"  {j['job']:<18} last {j['last_status'] or 'never':<7} {(j['last_run'] or '')[:16]:<17}"
                       f" next {j['next_run'] or '-'}")
        click.echo("Sources:")
        for src in s["sources"]:
            fails = f", {src['failed_in_a_row']} failed in a row" if src["failed_in_a_row"] else ""
            click.echo(f"  {src['source']:<18} {src['last_status'] or 'never crawled':<7} "
                       f"last healthy {(src['last_healthy'] or 'never')[:10]}{fails}")
        box = ", ".join(f"{n} {k}" for k, n in sorted(s["outbox"].items())) or "empty"
        click.echo(f"Outbox: {box}")
        click.echo("Needs attention:" if s["needs_attention"] else "Nothing needs attention.")
        for reason in s["needs_attention"]:
            click.echo(f"  - {reason}")
    if s["needs_attention"]:
        raise SystemExit(1)
