"""Every source's replay routes on one server: `replay_server()` is what the tests and the demo start."""
from __future__ import annotations

import importlib

from spiders.replay.server import ReplayServer
from spiders.replay.snapshots import ReplayClock

# Modules with a `routes(clock)` function, one per source, plus the postcodes.io emulator.
ROUTE_MODULES = ("mutual_aid", "threesixty_giving", "fhrs", "libraries", "library_news")


def replay_server(clock: ReplayClock | None = None, port: int = 0) -> ReplayServer:
    """Build (not start) a replay server with every source's routes and postcodes.io."""
    from spiders.replay import postcodes_io

    clock = clock or ReplayClock()
    server = ReplayServer(port=port)
    server.clock = clock
    for name in ROUTE_MODULES:
        try:
            module = importlib.import_module(f"spiders.replay.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"spiders.replay.{name}":
                raise
            continue
        for method, pattern, handler in module.routes(clock):
            server.add(method, pattern, handler)
    for method, pattern, handler in postcodes_io.routes():
        server.add(method, pattern, handler)
    return server


def start_urls(base: str) -> dict[str, str]:
    """The start URL of every source on a replay server at `base`."""
    from spiders.replay import mutual_aid
    urls = {"mutual_aid": base + mutual_aid.WIKI_PATH}
    for name in ROUTE_MODULES[1:]:
        try:
            module = importlib.import_module(f"spiders.replay.{name}")
        except ModuleNotFoundError:
            continue
        urls.update(module.start_urls(base))
    return urls
