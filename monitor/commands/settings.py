"""The `settings` command: every setting, the monitor's and each source's own, with its default and help."""
from __future__ import annotations

import click

from core import config
from monitor.commands.group import cli


@cli.command()
@click.option("--example", is_flag=True, help="Print a config file that sets every setting to its default.")
@click.pass_obj
def settings(obj, example):
    """Print every setting with its default, environment variable and help, as Markdown (docs/configuration.md).

    Example: python run.py settings --example > my-config.toml
    """
    click.echo(config.example_toml() if example else config.markdown_table())
