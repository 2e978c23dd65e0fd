"""A hostile HTTP server on 127.0.0.1 for tests: compression bombs, endless and slow bodies, built in a moment.

Each route answers a status, headers and a body given as pieces (any iterable, endless ones too), each piece
after `pause` seconds. Bodies end with the connection (HTTP/1.0), unless the headers give a Content-Length.
"""
from __future__ import annotations

import itertools
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli

MIB = 1 << 20


@dataclass
class Answer:
    status: int
    headers: dict
    pieces: Callable[[], Iterable[bytes]]
    pause: float = 0.0


def brotli_bomb(size: int = 8 * 1024) -> tuple[bytes, int]:
    """Return (a brotli stream of about `size` bytes, how many zero bytes it decodes to).

    Flushed after each 16 MiB of zeros, the compressor's output for the next 16 MiB is always the same 14 bytes:
    so the stream is built by repeating them, not by compressing gigabytes."""
    block = bytes(16 * MIB)
    c = brotli.Compressor(quality=3, lgwin=24)
    head = c.process(block) + c.process(block) + c.flush()
    step = c.process(block) + c.flush()
    end = c.finish()
    n = max(0, (size - len(head) - len(end)) // len(step))
    return head + step * n + end, (2 + n) * len(block)


def gzip_bomb(size: int = 10 * MIB) -> tuple[bytes, int]:
    """Return (a gzip stream of about `size` bytes, how many zero bytes it decodes to), built the same way (each
    further MiB of zeros is the same 1,037 bytes); it has no trailer: nobody should read that far."""
    block = bytes(MIB)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    step = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    n = max(0, (size - len(head)) // len(step))
    return head + step * n, (1 + n) * len(block)


def endless(piece: bytes = bytes(64 * 1024)) -> Iterable[bytes]:
    return itertools.repeat(piece)


class BombServer:
    """Serve Answers by exact path; anything else is a 404 with a short body."""

    def __init__(self, routes: dict[str, Answer]):
        self.routes = routes
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> BombServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):
                answer = server.routes.get(self.path.split("?")[0])
                if answer is None:
                    answer = Answer(404, {"Content-Type": "text/plain"}, lambda: [b"Not Found"])
                self.send_response(answer.status)
                for k, v in answer.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    for piece in answer.pieces():
                        if answer.pause:
                            time.sleep(answer.pause)
                        self.wfile.write(piece)
                except (BrokenPipeError, ConnectionResetError):   # the client stopped reading: as it should
                    pass

            def log_message(self, *args):
                pass

        return Handler
