"""Every source's replay routes on one server: `replay_server()` is what the tests and the demo start."""
from __future__ import annotations

from spiders import registry
from spiders.replay.server import ReplayServer
from spiders.replay.snapshots import ReplayClock

# A source's replay module is the `replay` module in its folder, with `routes(clock)` and `start_urls(base)`
# (the registry finds it). postcodes.io is mounted beside them.


def _modules():
    modules = registry.replay_modules()
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
