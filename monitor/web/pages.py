"""The reading pages: ward search, a ward's page, and the Atom feeds."""
from __future__ import annotations

import sqlite3

from datasette.utils.asgi import Response

from monitor.web import chart, feeds, lookup, templating
from monitor.web import wards as wq
from monitor.web.state import get_state, public_database

FEED_TAG = "tag:leftbehind-monitor,2024"
STORED_VALUE_LIMIT = 1_000_000_000   # SQLite's own ceiling


def stored(fn):
    """Return fn to run with SQLite's length cap lifted to its ceiling for the time it runs.

    Datasette's connections cap values at 32 MB (monitor/web/datasette_plugins/sqlite_limits.py) against queries that
    build huge ones; these pages run only their own SQL, and a larger value put into the database by hand must
    not break a ward page (the page shows its start)."""
    def run(conn):
        prior = conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, STORED_VALUE_LIMIT)
        try:
            return fn(conn)
        finally:
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, prior)
    return run


async def html(datasette, request, template: str, status: int = 200, **context) -> Response:
    """Render the people's template (monitor/web/templates/people/) with Datasette, which adds its own context."""
    body = await datasette.render_template(templating.PREFIX + template, context, request=request)
    return Response.html(body, status=status)


async def too_many(datasette, request) -> Response:
    response = await html(datasette, request, "message.html", status=429, title="Too many requests",
                          body="Too many requests from your address: wait a minute and try again.")
    response.headers["Retry-After"] = "60"
    return response


def client_key(request) -> str:
    client = request.scope.get("client")
    return client[0] if client else "unknown"


async def datasette_index(datasette, request):
    """Datasette's own index page, one click from the site root (which is "Find a ward")."""
    from datasette.views.index import IndexView
    return await IndexView(datasette).dispatch_request(request)


async def search(datasette, request):
    state = get_state(datasette)
    q = request.args.get("q", "")
    if q.strip() and not state.limiter.allow(client_key(request)):
        return await too_many(datasette, request)
    found = await lookup.find_wards(datasette, state, q)
    unavailable = lookup.UNAVAILABLE[found.how] if found.problem == "unavailable" else ""
    return await html(datasette, request, "search.html", q=q[:100], results=found.wards, how=found.how,
                      searched=bool(q.strip()), unavailable=unavailable)


async def _ward_of(datasette, request):
    """Return (state, code, database, ward row or None) for a request to /wards/<code>..."""
    state = get_state(datasette)
    code = request.url_vars["code"].upper()
    db = public_database(datasette)
    ward = await db.execute_fn(stored(lambda conn: wq.ward(conn, code))) if wq.WARD_CODE.match(code) else None
    return state, code, db, ward


async def _no_such_ward(datasette, request):
    return await html(datasette, request, "not_found.html", status=404, q=request.url_vars["code"][:40])


async def ward_page(datasette, request):
    state, code, db, ward = await _ward_of(datasette, request)
    if not ward:
        return await _no_such_ward(datasette, request)

    min_count = int(state.settings.get("min_reliable_count", 20))

    def gather(conn):
        return {"figures": wq.ward_figures(conn, code, ward["population"], min_count),
                "records": wq.ward_records(conn, code, db.name),
                "events": wq.events(conn, db.name, ward_code=code, limit=30),
                "listed_at_start": wq.baseline_count(conn, code),
                "timeline": wq.timeline(conn, code), "coverage": wq.coverage(conn)}

    data = await db.execute_fn(stored(gather))
    return await html(datasette, request, "ward.html", ward=ward, db=db.name, groups=wq.AREA_GROUPS,
                      group_labels=wq.GROUP_LABELS, chart=chart.timeline_svg(data.pop("timeline")),
                      ward_href=wq.row_path(db.name, "wards", code), min_count=min_count,
                      as_of=wq.data_as_of(data["coverage"]), **data)


def _atom(body: bytes) -> Response:
    return Response(body, content_type="application/atom+xml; charset=utf-8")


async def ward_feed(datasette, request):
    state, code, db, ward = await _ward_of(datasette, request)
    if not ward:
        return await _no_such_ward(datasette, request)
    events, as_of = await db.execute_fn(stored(lambda conn: (wq.events(conn, db.name, ward_code=code),
                                                             wq.data_as_of(wq.coverage(conn)))))
    base = state.base_url
    return _atom(feeds.atom(f"{FEED_TAG}:feed:ward:{code}", f"{ward['name']} ({ward['lad_name']}): events",
                            f"{base}/wards/{code}.atom", f"{base}/wards/{code}", events, base, as_of))


async def left_behind_feed(datasette, request):
    state = get_state(datasette)
    db = public_database(datasette)
    events, as_of = await db.execute_fn(stored(lambda conn: (wq.events(conn, db.name, left_behind=True, limit=100),
                                                             wq.data_as_of(wq.coverage(conn)))))
    base = state.base_url
    return _atom(feeds.atom(f"{FEED_TAG}:feed:left-behind", "Left-behind wards: events",
                            f"{base}/left-behind.atom", f"{base}/wards", events, base, as_of))
