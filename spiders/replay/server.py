"""The replay server: serves recorded snapshots in each source's real format at its real paths, on 127.0.0.1.

Used by the tests and by the offline demo, so the same spiders, pipelines and HTTP stack run with no internet.
Routes are (method, path regex, handler); a handler gets a Request and returns a Response.
Faults can be switched on per path prefix: a status code, a delay, a truncated body, for a number of requests.
"""
from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match | None = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None        # a file sent from disk in chunks instead of `body` (a 1 GB file is not held)

    def length(self) -> int:
        return self.file.stat().st_size if self.file is not None else len(self.body)

    def bytes(self) -> bytes:
        return self.file.read_bytes() if self.file is not None else self.body


Handler = Callable[[Request], Response]


@dataclass
class Fault:
    status: int | None = None       # answer with this status instead
    delay: float = 0.0              # seconds to wait before answering
    truncate: float | None = None   # send only this share of the body (the Content-Length stays honest)
    times: int | None = None        # how many requests it applies to; None = until cleared


class ReplayServer:
    """A threaded HTTP server on 127.0.0.1 with a route table and switchable faults."""

    def __init__(self, routes: list[tuple[str, str, Handler]] | None = None, host: str = "127.0.0.1",
                 port: int = 0):
        self.routes: list[tuple[str, re.Pattern, Handler]] = []
        self.faults: dict[str, Fault] = {}
        self.log: list[tuple[str, str, int]] = []   # (method, path with query, status) of every request
        self._lock = threading.Lock()
        for method, pattern, handler in routes or []:
            self.add(method, pattern, handler)
        self.httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method.upper(), re.compile(pattern + r"\Z"), handler))

    def set_fault(self, prefix: str, **kwargs) -> None:
        with self._lock:
            self.faults[prefix] = Fault(**kwargs)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def requests(self, prefix: str = "") -> list[tuple[str, str, int]]:
        return [r for r in self.log if r[1].startswith(prefix)]

    def start(self) -> "ReplayServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "ReplayServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _fault_for(self, path: str) -> Fault | None:
        with self._lock:
            for prefix, fault in self.faults.items():
                if path.startswith(prefix):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            del self.faults[prefix]
                    return fault
        return None

    def dispatch(self, req: Request) -> Response:
        fault = self._fault_for(req.path)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.status:
            return Response(fault.status, b'{"error": "injected fault"}', {"Content-Type": "application/json"})
        for method, pattern, handler in self.routes:
            m = pattern.match(req.path)
            if m and method in (req.method, "*"):
                req.match = m
                resp = handler(req)
                break
        else:
            resp = Response(404, b"Not Found", {"Content-Type": "text/plain"})
        if fault and fault.truncate is not None:
            whole = resp.bytes()
            resp = Response(resp.status, whole[: int(len(whole) * fault.truncate)], resp.headers)
        return resp

    def _handler_class(self):
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are written apart: with Nagle's algorithm and delayed ACKs each answer would wait
            # ~40 ms for nothing.
            disable_nagle_algorithm = True

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
                try:
                    resp = server.dispatch(req)
                except Exception as e:  # a broken fixture shows as a 500, like a broken live source
                    resp = Response(500, f"replay handler error: {e}".encode(), {"Content-Type": "text/plain"})
                server.log.append((self.command, self.path, resp.status))
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(resp.length()))
                self.end_headers()
                if self.command != "HEAD":
                    try:
                        if resp.file is not None:
                            with open(resp.file, "rb") as f:
                                shutil.copyfileobj(f, self.wfile, 1 << 20)
                        else:
                            self.wfile.write(resp.body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass

            do_GET = do_POST = do_HEAD = _serve

            def log_message(self, *args):
                pass

        return _Handler

