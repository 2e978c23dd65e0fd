"""The stop flag: SIGTERM sets it, and a long job checks it between its steps.

It lives apart from the scheduler so that the jobs can read it without importing the scheduler, which imports them.
"""
from __future__ import annotations

import threading

STOP = threading.Event()


def stop_requested() -> bool:
    """Say whether SIGTERM asked the loop to stop (a long job may check this between its steps)."""
    return STOP.is_set()
