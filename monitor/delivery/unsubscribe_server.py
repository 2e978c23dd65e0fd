"""The unsubscribe endpoint: the only web page that touches the private database, and only by token.

GET /unsubscribe?token=T shows a confirmation button (so a mail scanner following links unsubscribes nobody);
POST /unsubscribe?token=T (the button, or a mail client's RFC 8058 one-click POST) stops all mail to that
subscriber. Nothing else is served: no address, no list, no other path.
"""
from __future__ import annotations

import html
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from db.store import init_private

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:Georgia,serif;max-width:36em;margin:4em auto;color:#222}}button{{font-size:1em;padding:.5em 1em}}</style>
</head><body><h1>{title}</h1>{body}</body></html>"""


def unsubscribe_token(private_db, token: str) -> str | None:
    """Stop all mail to the subscriber holding this token; return their address, or None for an unknown token."""
    row = private_db.execute("select id, email from subscriptions where token = ?", [token]).fetchone()
    if not row:
        return None
    with private_db.conn:
        private_db["subscriptions"].update(row[0], {"active": 0})
    return row[1]


def _handler(private_db_path: Path):
    class Handler(BaseHTTPRequestHandler):
        def _page(self, status: int, title: str, body: str) -> None:
            data = PAGE.format(title=html.escape(title), body=body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _token(self) -> str | None:
            parts = urlsplit(self.path)
            if parts.path != "/unsubscribe":
                return None
            return (parse_qs(parts.query).get("token") or [""])[0] or None

        def do_GET(self):
            token = self._token()
            if not token:
                return self._page(404, "Not found", "<p>There is nothing here.</p>")
            self._page(200, "Unsubscribe", f"""<p>Stop all alerts and digests from the left-behind
                neighbourhoods monitor?</p><form method="post" action="/unsubscribe?token={html.escape(token)}">
                <button type="submit">Unsubscribe</button></form>""")

        def do_POST(self):
            token = self._token()
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not token:
                return self._page(404, "Not found", "<p>There is nothing here.</p>")
            email = unsubscribe_token(init_private(private_db_path), token)
            if email is None:
                return self._page(404, "Link not valid", "<p>This unsubscribe link is not valid.</p>")
            self._page(200, "Unsubscribed", f"<p>{html.escape(email)} will get no more mail from the monitor.</p>")

        def log_message(self, *args):
            pass

    return Handler


def make_server(private_db_path: Path, host: str = "127.0.0.1", port: int = 8002) -> ThreadingHTTPServer:
    """Build (not start) the unsubscribe server."""
    init_private(private_db_path)
    return ThreadingHTTPServer((host, port), _handler(Path(private_db_path)))
