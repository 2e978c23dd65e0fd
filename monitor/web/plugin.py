"""The Datasette plugin that serves the people's pages beside Datasette, on the same port, with the site's metadata.

Loaded through monitor/web/datasette_plugins/people_pages.py, a `datasette` entry point of the project (pyproject.toml),
so any `datasette` process where the project is installed has it: configured by Datasette's plugin configuration
(monitor/web/state.py), the pages rendered by Datasette's templates (monitor/web/templating.py), the titles,
provenance and canned queries given to the database file it serves (monitor/web/site_metadata.py).
"""
from __future__ import annotations

import re

from datasette import hookimpl

from monitor.web import pages, signup_views, templating
from monitor.web.site_metadata import site_metadata
from monitor.web.state import get_state, public_database

POST_PATHS = frozenset({"/subscribe", "/confirm", "/manage", "/unsubscribe"})
ROUTES = [
    (r"^/$", pages.search),                   # the site root is "Find a ward"
    (r"^/-/data(\.(?P<format>jsono?))?$", pages.datasette_index),   # and Datasette's index one click on
    (r"^/wards$", pages.search),
    (r"^/wards/(?P<code>[^/]+)\.atom$", pages.ward_feed),
    (r"^/wards/(?P<code>[^/.]+)$", pages.ward_page),
    (r"^/left-behind\.atom$", pages.left_behind_feed),
    (r"^/subscribe$", signup_views.subscribe),
    (r"^/confirm$", signup_views.confirm),
    (r"^/manage$", signup_views.manage),
    (r"^/unsubscribe$", signup_views.unsubscribe),
]
# Datasette's index, though routed here, is one of Datasette's pages (it counts every table's rows).
_PEOPLE_PAGES = [re.compile(pattern) for pattern, view in ROUTES if view is not pages.datasette_index]


def is_people_page(path: str) -> bool:
    """Say whether a path is one of the people's pages (not one of Datasette's own)."""
    return any(pattern.match(path) for pattern in _PEOPLE_PAGES)


@hookimpl
def startup(datasette):
    if public_database(datasette) is not None:   # a Datasette of no file (--memory) has no pages to serve
        get_state(datasette)   # a bad plugin configuration or settings file stops Datasette now, not at a page


@hookimpl
def prepare_jinja2_environment(env, datasette):
    templating.prepare(env, datasette)


@hookimpl
def get_metadata(datasette, key, database, table):
    served = public_database(datasette)
    if served is None:
        return None
    metadata = site_metadata(served.name)
    metadata["databases"][served.name].pop("queries", None)   # given by canned_queries below
    return metadata   # Datasette lays the --metadata file over it: what that says wins


@hookimpl
def canned_queries(datasette, database, actor):
    served = public_database(datasette)
    if served is None or database != served.name:
        return None
    own = datasette.metadata("queries", database=database, fallback=False) or {}   # --metadata's queries win
    queries = site_metadata(database)["databases"][database]["queries"]
    return {name: query for name, query in queries.items() if name not in own}


@hookimpl
def register_routes(datasette):
    return ROUTES


@hookimpl
def skip_csrf(datasette, scope):
    # RFC 8058: a mail client's one-click unsubscribe POST carries no cookie and no form token.
    return scope.get("path") == "/unsubscribe"


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def capped(scope, receive, send):
            if scope["type"] != "http" or scope["method"] != "POST":
                return await app(scope, receive, send)
            limit = int(get_state(datasette).settings["web_max_body_bytes"])
            body, more = b"", True
            while more:  # read the whole body first, refusing as soon as it is too long
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > limit:
                    return await _status(send, 413, b"Request body too large.\n")

            async def replay():
                nonlocal body
                chunk, body = body, b""
                return {"type": "http.request", "body": chunk, "more_body": False}
            await app(scope, replay, send)
        return capped
    return wrap


async def _status(send, status: int, text: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": text})
