"""Commands for the store: init."""
from __future__ import annotations

import click

from db.store import ward_summary
from monitor.commands.group import cli


@cli.command()
@click.pass_obj
def init(obj):
    """Create or migrate both databases and load the reference geography.

    Safe to run again: it changes nothing that is already there.

    Example: python run.py init
    """
    db = obj.public_db(create=True)
    obj.private_db(create=True)
    s = ward_summary(db)
    click.echo(f"Public database: {obj.db_path}")
    click.echo(f"Private database: {obj.private_db_path}")
    click.echo(f"Wards (2017 best-fit, England): {s['wards']:,}, population {s['population']:,}")
    click.echo(f"  left behind: {s['left_behind_wards']} wards, {s['left_behind_population']:,} people")
    click.echo(f"  other deprived: {s['other_deprived_wards']} wards, {s['other_deprived_population']:,} people")
