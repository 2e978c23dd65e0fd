"""The command line of the left-behind neighbourhoods monitor: one command per job.

Run `python run.py --help` for the commands.
"""
from __future__ import annotations

import importlib

from monitor.cli import cli

# Each module adds its commands to `cli` with @cli.command.
COMMAND_MODULES = (
    "db.commands",
    "db.commands_resolve",
    "spiders.commands",
    "monitor.commands_events",
    "monitor.commands_indicators",
    "monitor.commands_delivery",
    "monitor.commands_schedule",
    "monitor.commands_status",
    "db.commands_serve",
    "monitor.unsubscribe_server",
    "monitor.demo",
)


def register() -> None:
    """Import every command module so its commands join the group."""
    for name in COMMAND_MODULES:
        importlib.import_module(name)


register()

if __name__ == "__main__":
    cli()
