"""The command line, in one place: one module per job, each adding its commands to the `cli` group.

Importing this package registers every command; `run.py` only calls `cli`.
"""
from monitor.commands import (  # noqa: F401
    crawl,
    delivery,
    demo,
    events,
    indicators,
    init,
    resolve,
    schedule,
    serve,
    settings,
    status,
)
from monitor.commands.group import cli

__all__ = ["cli"]
