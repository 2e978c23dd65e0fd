"""Datasette plugin: a cap on Datasette's own pages running at once, per client and in all, so that the people's
pages (ward search, ward pages, feeds, subscriptions) always find a free SQL thread, however heavy the queries.

Datasette runs every query in a pool of `num_sql_threads` threads (3 by default). Eight `?sql=` queries that each
run to the time limit held all of them, and a ward page waited 21 s behind them. Here Datasette's pages (tables,
queries, `?sql=`, the JSON and CSV APIs) may hold at most one thread less than the pool, the rest wait their turn
(up to WAIT_SECONDS, then 503); one client may have PER_CLIENT of them running or waiting (more get 429).
"""
from __future__ import annotations

import asyncio
from collections import Counter

from datasette import hookimpl

from monitor.web.plugin import is_people_page

PER_CLIENT = 2
WAIT_SECONDS = 30


class QueryGate:
    """ASGI middleware: at most `at_once` gated requests in flight, `per_client` for any one client address."""

    def __init__(self, app, at_once: int, per_client: int = PER_CLIENT, wait: float = WAIT_SECONDS):
        self.app, self.per_client, self.wait = app, per_client, wait
        self.slots = asyncio.Semaphore(at_once)
        self.clients: Counter[str] = Counter()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not gated(scope["path"]):
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("unknown",))[0]
        if self.clients[client] >= self.per_client:
            return await _refuse(send, 429, b"Too many queries at once from your address: wait for them to end.\n")
        self.clients[client] += 1
        try:
            try:
                await asyncio.wait_for(self.slots.acquire(), self.wait)
            except TimeoutError:
                return await _refuse(send, 503, b"The database is busy: try again in a minute.\n")
            try:
                await self.app(scope, receive, send)
            finally:
                self.slots.release()
        finally:
            self.clients[client] -= 1
            if not self.clients[client]:
                del self.clients[client]


def gated(path: str) -> bool:
    """Say whether a path is one of Datasette's own pages (the people's pages and static files are not)."""
    return not (is_people_page(path) or path.startswith("/-/static"))


async def _refuse(send, status: int, text: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"60")]})
    await send({"type": "http.response.body", "body": text})


@hookimpl
def asgi_wrapper(datasette):
    at_once = max(1, int(datasette.setting("num_sql_threads") or 3) - 1)
    return lambda app: QueryGate(app, at_once)
