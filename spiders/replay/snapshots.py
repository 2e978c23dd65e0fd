"""Dated snapshots: each real path serves the latest recorded snapshot at or before the replay clock."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from spiders.replay.server import Request, Response


@dataclass
class Snapshot:
    date: str            # YYYY-MM-DD the source served this
    path: Path
    content_type: str
    headers: dict = field(default_factory=dict)


class SnapshotRoute:
    """A handler that serves, at one path, the snapshot current at `clock.date`."""

    def __init__(self, clock: "ReplayClock", snapshots: list[Snapshot]):
        self.clock = clock
        self.snapshots = sorted(snapshots, key=lambda s: s.date)

    def current(self) -> Snapshot | None:
        due = [s for s in self.snapshots if s.date <= self.clock.date]
        return due[-1] if due else None

    def __call__(self, req: Request) -> Response:
        snap = self.current()
        if snap is None:
            return Response(404, b"no snapshot recorded yet at this date", {"Content-Type": "text/plain"})
        return Response(200, snap.path.read_bytes(), {"Content-Type": snap.content_type, **snap.headers})


@dataclass
class ReplayClock:
    """The date the replay server pretends it is; the demo moves it week by week."""
    date: str = "9999-12-31"
