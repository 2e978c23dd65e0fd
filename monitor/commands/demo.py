"""`run.py demo`: replay real dated snapshots offline, week by simulated week, and report what was found."""
from __future__ import annotations

from pathlib import Path

import click

from monitor.commands.group import cli
from monitor.demo.report import report
from monitor.demo.run import run_demo


@cli.command()
@click.option("--dir", "directory", default="./demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the demo's databases and mail.")
@click.option("--force", is_flag=True, help="Replace an earlier demo in that folder.")
@click.pass_obj
def demo(obj, directory, force):
    """Replay real dated snapshots of every source offline, week by week, and show what the monitor found.

    The closing report is also written to report.txt in the demo's folder.

    Example: python run.py demo --dir ./demo --force
    """
    started = run_demo(obj, directory, force, click.echo)
    lines: list[str] = []

    def echo(line: str = "") -> None:
        click.echo(line)
        lines.append(line)

    report(obj, directory.resolve(), started, echo)
    (directory / "report.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
