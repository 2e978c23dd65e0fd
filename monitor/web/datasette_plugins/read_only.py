"""Datasette plugin: refuse every HTTP method but GET, HEAD and OPTIONS, so no request can ask for a write.

The one exception is the people's subscription forms (monitor/web/), which write only the private database.

Datasette 0.65 answers a POST to a table page with a 500; a plain 405 says what is going on.
"""
from datasette import hookimpl

from monitor.web.plugin import POST_PATHS

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSAL = b"This Datasette is read-only: only GET and HEAD requests are answered.\n"


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def read_only(scope, receive, send):
            if scope["type"] == "http" and scope["method"] not in READ_METHODS \
                    and not (scope["method"] == "POST" and scope["path"] in POST_PATHS):
                await send({"type": "http.response.start", "status": 405, "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"GET, HEAD, OPTIONS")]})
                await send({"type": "http.response.body", "body": REFUSAL})
                return
            await app(scope, receive, send)
        return read_only
    return wrap
