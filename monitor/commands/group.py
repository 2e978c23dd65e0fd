"""The click group every command hangs on, and the context each command gets."""
from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import click

from core import config as config_mod
from core.errors import MonitorError
from db.store import init_private, init_public, store_error


@dataclass
class Context:
    """What every command gets: where the databases are and the settings."""
    db_path: Path
    private_db_path: Path
    config_path: Path | None
    settings: dict

    def public_db(self, create: bool = False):
        """Open the public database; only commands that make or fill it pass create=True."""
        return init_public(self.db_path, create)

    def private_db(self, create: bool = False):
        """Open the private database; only commands that make or fill it pass create=True."""
        return init_private(self.private_db_path, create)


class IsoDate(click.ParamType):
    """A date (2024-06-01) or an ISO date and time, kept as the text given; anything else is refused with exit 2."""

    name = "date"

    def convert(self, value, param, ctx):
        try:
            datetime.fromisoformat(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a date like 2024-06-01 or a time like 2024-06-01T07:00:00+00:00", param, ctx)
        return value


ISO_DATE = IsoDate()


class Failed(click.ClickException):
    """A program error shown as click shows its own: one line, `Error: ...`, exit 2."""

    exit_code = 2


class Group(click.Group):
    """A click group that turns the program's errors into one-line messages and a non-zero exit: the one handler
    for core/errors.py's hierarchy, and for SQLite and file errors that reach the top."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MonitorError as e:
            raise Failed(str(e)) from None
        except sqlite3.Error as e:
            raise Failed(str(store_error(e))) from None
        except FileNotFoundError as e:
            raise Failed(f"file not found: {e.filename}") from None
        except OSError as e:   # a folder that cannot be written, a full disk outside SQLite
            raise Failed(f"{e.strerror}: {e.filename}" if e.filename else str(e)) from None
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
    settings = config_mod.load(config_path)
    # Absolute from here on: a crawl child runs in the repository, and cron starts commands anywhere.
    ctx.obj = Context(db_path.resolve(), private_db_path.resolve(), config_path.resolve() if config_path else None,
                      settings)
