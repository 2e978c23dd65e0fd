"""The click group every command hangs on, and the context each command gets."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import click

from core import config as config_mod
from core.errors import MonitorError
from db.store import init_private, init_public


@dataclass
class Context:
    """What every command gets: where the databases are and the settings."""
    db_path: Path
    private_db_path: Path
    config_path: Path | None
    settings: dict

    def public_db(self):
        return init_public(self.db_path)

    def private_db(self):
        return init_private(self.private_db_path)


class Group(click.Group):
    """A click group that turns the program's errors into one-line messages and a non-zero exit."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MonitorError as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(2)
        except FileNotFoundError as e:
            click.echo(f"Error: file not found: {e.filename}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_path", envvar="LBM_DB", default="./leftbehind.db", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Public database (served by Datasette).")
@click.option("--private-db", "private_db_path", envvar="LBM_PRIVATE_DB", default="./private.db",
              show_default=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Private database: subscriptions, outbox, scheduler state.")
@click.option("--config", "config_path", envvar="LBM_CONFIG", default=None,
              type=click.Path(dir_okay=False, path_type=Path), help="Optional TOML file of settings.")
@click.pass_context
def cli(ctx, db_path, private_db_path, config_path):
    """Monitor social infrastructure in England's 'left behind' wards.

    Example: python run.py demo
    """
    try:
        settings = config_mod.load(config_path)
    except MonitorError as e:
        raise click.ClickException(str(e)) from None
    # Absolute from here on: a crawl child runs in the repository, and cron starts commands anywhere.
    ctx.obj = Context(db_path.resolve(), private_db_path.resolve(), config_path.resolve() if config_path else None,
                      settings)
