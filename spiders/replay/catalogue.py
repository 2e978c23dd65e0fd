"""Every source's replay routes on one server: `replay_server()` is what the tests and the demo start."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from spiders.replay.server import ReplayServer
from spiders.replay.snapshots import ReplayClock

# A source's replay module is any module here with `routes(clock)` and `start_urls(base)`: adding one is enough.
# postcodes.io is mounted beside them; helpers (server, snapshots, builders) have no start_urls.
HELPERS = {"catalogue", "server", "snapshots", "postcodes_io"}


def _modules():
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name not in HELPERS)
    modules = [importlib.import_module(f"spiders.replay.{name}") for name in names]
    return [m for m in modules if callable(getattr(m, "routes", None)) and callable(getattr(m, "start_urls", None))]


def replay_server(clock: ReplayClock | None = None, port: int = 0) -> ReplayServer:
    """Build (not start) a replay server with every source's routes and postcodes.io."""
    from spiders.replay import postcodes_io

    clock = clock or ReplayClock()
    server = ReplayServer(port=port)
    server.clock = clock
    for module in _modules():
        for method, pattern, handler in module.routes(clock):
            server.add(method, pattern, handler)
    for method, pattern, handler in postcodes_io.routes():
        server.add(method, pattern, handler)
    return server


def start_urls(base: str) -> dict[str, str]:
    """The start URL of every source on a replay server at `base`."""
    urls: dict[str, str] = {}
    for module in _modules():
        urls.update(module.start_urls(base))
    return urls
