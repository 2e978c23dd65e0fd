"""Run a script as if the wall clock said a given time: `python tests/at_time.py ISO-TIME -- run.py ARGS...`.

For the cron tests: `schedule --once` asks APScheduler what is due, and APScheduler reads the wall clock. The clock
starts at ISO-TIME and ticks on from there, in this process only (crawl child processes get `now` as an argument).
"""
from __future__ import annotations

import runpy
import sys
from datetime import datetime

import time_machine


def main(argv: list[str]) -> None:
    when, separator, script, *args = argv
    if separator != "--":
        raise SystemExit("usage: at_time.py ISO-TIME -- SCRIPT [ARGS...]")
    sys.argv = [script, *args]
    with time_machine.travel(datetime.fromisoformat(when), tick=True):
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
