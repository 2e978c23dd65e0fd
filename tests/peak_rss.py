"""Measure the peak resident memory of this process's children (a crawl child and anything it starts), summed."""
from __future__ import annotations

import threading
import time

import psutil


class PeakChildRSS:
    """Context manager: poll every `every` seconds; `peak_mb` is the highest sum of the children's RSS seen."""

    def __init__(self, every: float = 0.02):
        self.every = every
        self.peak = 0
        self._stop = threading.Event()

    @property
    def peak_mb(self) -> float:
        return self.peak / (1 << 20)

    def _poll(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:   # ended between listing and reading
                    pass
            self.peak = max(self.peak, total)
            time.sleep(self.every)

    def __enter__(self) -> PeakChildRSS:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
