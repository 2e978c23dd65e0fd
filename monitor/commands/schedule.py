"""The `schedule` command: run the scheduler loop, or one pass of it over what is due."""
from __future__ import annotations

import click

from db.store import init_private
from monitor.commands.group import cli
from monitor.scheduling.lock import scheduler_lock
from monitor.scheduling.scheduler import build_scheduler


@cli.command()
@click.option("--once", is_flag=True, help="Run every job due now once and exit (for cron or systemd timers).")
@click.pass_obj
def schedule(obj, once):
    """Run the crawls, alerts and weekly digest on their schedules until stopped (SIGTERM finishes the job first).

    Example: python run.py schedule --once
    """
    init_private(obj.private_db_path)
    with scheduler_lock(obj.private_db_path):
        loop = build_scheduler(obj.settings, obj.private_db_path, db_path=obj.db_path, config_path=obj.config_path,
                               once=once)
        started = loop.now()
        recovered = loop.recover(started)
        if recovered:
            click.echo(f"Recovered {recovered} job run(s) left running by a stopped scheduler.", err=True)
        loop.start()
        if once:
            ran = loop.run_once()
            failed = loop.failures_since(started)
            loop.beat(loop.now(), ",".join(ran), "ran once" if ran else "nothing due")
            click.echo(f"Ran {len(ran)} due job(s){': ' + ', '.join(ran) if ran else ''}.")
            for name, at in sorted(loop.next_runs().items(), key=lambda kv: kv[1]):
                click.echo(f"  next {name:<18} {at.isoformat()}")
            if failed:   # cron mails a non-zero exit to the operator
                raise click.ClickException(f"{len(failed)} job(s) failed: {', '.join(failed)} "
                                           "(see `run.py status`)")
            return
        click.echo(f"Scheduler running with {len(loop.jobs)} jobs; SIGTERM or Ctrl-C stops it after the current job.")
        loop.run_forever()
        click.echo("Scheduler stopped.")
