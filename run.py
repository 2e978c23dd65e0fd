"""The command line of the left-behind neighbourhoods monitor: one command per job.

Run `python run.py --help` for the commands; they live in monitor/commands/.
"""
from __future__ import annotations

from monitor.commands import cli

if __name__ == "__main__":
    cli()
