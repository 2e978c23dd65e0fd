"""Each crawl child downloads into a folder of its own, which the parent removes whatever becomes of the child.

A child stopped at its time limit is killed, and a killed process cleans nothing up: its half-written download
(524 MB seen) stayed in the temporary folder. The parent makes the folder, named after its own process id, and
removes it when the child has ended; a folder whose parent died first is removed at the next crawl's start.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "lbm-crawl-"


def make_folder() -> str:
    """Create this crawl's download folder, removing the folders of crawls whose parent process is gone."""
    remove_stale()
    return tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")


def remove_folder(folder: str) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def remove_stale(base: str | None = None) -> list[str]:
    """Remove the download folders whose parent process no longer runs; return them."""
    removed = []
    for folder in Path(base or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = folder.name[len(PREFIX):].split("-", 1)[0]
        if folder.is_dir() and pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(str(folder))
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # another user's process
        return True
    return True
