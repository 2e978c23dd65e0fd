"""The scheduler lock: one scheduler (loop or `--once` pass) per private database at a time."""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import LockError


@contextmanager
def scheduler_lock(private_db_path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock next to the private database; raise LockError when another scheduler has it."""
    path = Path(f"{private_db_path}.scheduler.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            pid = f.read().strip() or "?"
            raise LockError(f"another scheduler is running on {private_db_path} (pid {pid})") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
