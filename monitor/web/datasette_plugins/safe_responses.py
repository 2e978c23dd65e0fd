"""Datasette plugin: no file path in any answer, and an error page for any unknown path.

- `/-/databases.json` lists the databases without their `path` (the absolute path of the file on the server);
  `pragma_database_list` reads NULL for it too (db/datasette/sql_functions.py). `/-/metadata.json` leaves out
  this project's plugin configuration (the private database's and the settings file's paths).
- Datasette 0.65's default error handler prints the exception with `rich` when it is installed, which fails when
  it is not called inside an `except` block, as for a path no route matches (`/wards/../../etc/passwd`,
  `/a/b/c/d`): a 404 became a 500. (It also printed every local variable, a 20 MB value included, to the log.)
  Datasette then prints a plain traceback, as it does without `rich`.
- A value over SQLite's length cap (one put into the database by hand) is a 400 that says so, not a 500.
"""
from __future__ import annotations

import sqlite3

from datasette import handle_exception as default_handler
from datasette import hookimpl
from datasette.utils.asgi import Response
from datasette.views.special import JsonDataView

from monitor.web.state import PLUGIN

default_handler.rich = None   # see above: Datasette's handler without rich


async def databases(datasette):
    return Response.json([{"name": d.name, "route": d.route, "size": d.size, "is_mutable": d.is_mutable,
                           "is_memory": d.is_memory, "hash": d.hash}
                          for name, d in datasette.databases.items() if name != "_internal"])


async def metadata(datasette, request):
    def public():
        shown = dict(datasette.metadata())
        shown["plugins"] = {k: v for k, v in (shown.get("plugins") or {}).items() if k != PLUGIN}
        return shown
    return await JsonDataView(datasette, "metadata.json", public).dispatch_request(request)


@hookimpl
def register_routes(datasette):
    return [(r"^/-/databases(\.json)?$", databases), (r"^/-/metadata(\.(?P<format>json))?$", metadata)]


@hookimpl(tryfirst=True)
def handle_exception(datasette, request, exception):
    if not (isinstance(exception, sqlite3.DataError) and "too big" in str(exception)):
        return None   # Datasette's own handler
    status, message = 400, "A value in these rows is larger than this server reads at once."

    async def inner():
        info = {"ok": False, "error": message, "status": status, "title": None}
        if request.path.split("?")[0].endswith(".json"):
            return Response.json(info, status=status)
        template = datasette.jinja_env.select_template([f"{status}.html", "error.html"])
        return Response.html(await template.render_async(dict(
            info, urls=datasette.urls, app_css_hash=datasette.app_css_hash(), menu_links=lambda: [])), status=status)
    return inner
