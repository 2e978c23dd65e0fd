"""Peak resident memory of this process and all its children together, sampled in a thread."""
from __future__ import annotations

import threading

import psutil


class TreeRss:
    """Sample the summed RSS of this process and its descendants every `every` seconds; keep the peak."""

    def __init__(self, every: float = 0.1):
        self.peak = 0
        self.peak_children = 0   # the crawl child processes alone, at their largest
        self.peak_self = 0       # this process alone: the simulator and the jobs' in-process steps
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        me = psutil.Process()
        total = children = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                rss = p.memory_info().rss
            except psutil.Error:   # a child that ended between listing and reading
                continue
            total += rss
            children += rss if p.pid != me.pid else 0
        self.peak_children = max(self.peak_children, children)
        self.peak_self = max(self.peak_self, total - children)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.every)

    def __enter__(self) -> "TreeRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
