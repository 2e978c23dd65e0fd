"""A download handler that streams big files to disk: memory stays flat however large a publisher's file is.

Scrapy keeps a whole response body in memory (twice, for a moment); some 360Giving files are hundreds of MB.
A request with meta["to_disk"] = True whose answer is 200 has its body written to a temporary file, named in
meta["body_path"] (the spider deletes it once parsed) and its sha256, taken while writing, in meta["body_sha256"]
(so a server that ignores conditional GET and sends the same bytes again costs no parse); its Response body is
empty. Other requests go through Scrapy's own HTTP handler. It runs inside Scrapy's downloader slots, so
concurrency per host, delays, the User-Agent, robots.txt and retries all still apply.

Bounds, for a hostile or broken server: bytes are counted after decoding, as they are decoded
(spiders/content_decoding.py: 8 KB of brotli can hold gigabytes), against LBM_FILE_MAXSIZE; any other status
than 200 has at most ERROR_BODY_MAX bytes of its body read; DOWNLOAD_TIMEOUT is the whole download's time,
connecting to last byte (httpx's own timeouts are between bytes, so a body sent a byte a second never ended); a
server that answered but sent too slowly is not asked again (Scrapy's retries would make it four times as long).
Temporary files go into LBM_DOWNLOAD_DIR (the crawl's own folder, removed by the parent whatever happens to the
child) and are removed on every way out, a crawl's end included.
Stats: file_download/to_disk, file_download/bytes, file_download/refused/<why>, file_download/error_body_capped,
file_download/left_over_removed.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile

import httpcore
import httpx
from scrapy import exceptions
from scrapy.http import Headers, Response
from scrapy.utils.misc import build_from_crawler, load_object

from spiders.content_decoding import BoundedDecoder, DecodingError

# Scrapy >= 2.13 names these; older versions retry on the built-in kinds.
_TIMEOUT = getattr(exceptions, "DownloadTimeoutError", TimeoutError)
_REFUSED = getattr(exceptions, "DownloadConnectionRefusedError", ConnectionRefusedError)
_FAILED = getattr(exceptions, "DownloadFailedError", ConnectionError)
_DROPPED = {b"content-encoding", b"content-length", b"transfer-encoding"}   # bodies here are decoded
ERROR_BODY_MAX = 64 * 1024   # an error page needs no more; an endless one must not be read for ever
FILE_MAXSIZE = 1024 * 1024 * 1024
# httpcore reads a response 64 KB at a time, each read a round of the event loop (and asyncio hands it 256 KB,
# split four ways). Reading up to 1 MB: 211 MB streamed in 1.2 s instead of 1.75 s. Only the most a read takes
# changes (h11 parses whatever arrives); it holds for every httpx client of the crawl process.
httpcore.AsyncHTTP11Connection.READ_NUM_BYTES = max(httpcore.AsyncHTTP11Connection.READ_NUM_BYTES, 1 << 20)
# Signal (request=): the body of a 200 answer to a to_disk request starts to arrive. Work that only a downloaded
# body needs can start now and overlap the download (spiders/conditional_get.py reads stored input hashes).
body_started = object()


class DownloadRefused(exceptions.IgnoreRequest):
    """A download stopped at a limit (download_max_mb, download_timeout): the file is refused, not retried."""


class _TooLarge(Exception):
    """The decoded body passed its limit."""


async def decoded_chunks(answer: httpx.Response, limit: int):
    """Yield a response's body decoded, in pieces of at most about 64 KB; raise _TooLarge past `limit` bytes."""
    decoder = BoundedDecoder(answer.headers.get("content-encoding", ""))
    size = 0
    async for raw in answer.aiter_raw():
        for piece in decoder.decode(raw):
            size += len(piece)
            if limit and size > limit:
                raise _TooLarge(size)
            yield piece


class FileToDiskHandler:
    """HTTP(S) handler: 200 answers to requests marked to_disk are streamed to a temporary file."""

    lazy = False

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        fallback = settings.getdict("DOWNLOAD_HANDLERS_BASE")["http"]
        self.fallback = build_from_crawler(load_object(fallback), crawler)
        self.maxsize = settings.getint("LBM_FILE_MAXSIZE", FILE_MAXSIZE)
        self.folder = settings.get("LBM_DOWNLOAD_DIR") or None
        self.client = httpx.AsyncClient(follow_redirects=False)
        self.paths: set[str] = set()   # every file written, so none outlives the crawl
        crawler.stats.set_value("file_download/handler", type(self).__name__)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def download_request(self, request, spider=None) -> Response:
        if not request.meta.get("to_disk"):
            return await self.fallback.download_request(request)
        timeout = request.meta.get("download_timeout", 180)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in request.headers.items() for v in vs]
        stats = self.crawler.stats
        answer = None
        try:
            async with asyncio.timeout(timeout):   # the whole download, not only the wait between two bytes
                async with self.client.stream(request.method, request.url, headers=headers,
                                              content=request.body or None, timeout=timeout) as answer:
                    if answer.status_code != 200:
                        return self._response(request, answer, await self._error_body(answer))
                    self.crawler.signals.send_catch_log(signal=body_started, request=request)
                    path, sha256, size = await self._save(answer)
        except TimeoutError as e:
            stats.inc_value("file_download/refused/time")
            if answer is not None:   # it answered, then sent too slowly: the same again next time, so no retry
                raise DownloadRefused(f"getting {request.url} took longer than {timeout:g} s in all "
                                      "(download_timeout): stopped") from e
            raise _TIMEOUT(f"getting {request.url} took longer than {timeout:g} s") from e
        except httpx.TimeoutException as e:   # no answer, or a pause between two bytes: worth a retry
            stats.inc_value("file_download/refused/time")
            raise _TIMEOUT(f"getting {request.url} took longer than {timeout:g} s") from e
        except _TooLarge as e:
            stats.inc_value("file_download/refused/size")
            raise DownloadRefused(f"{request.url} is larger than its limit of {self.maxsize:,} bytes "
                                  f"decoded (download_max_mb): stopped at {e.args[0]:,}") from None
        except DecodingError as e:
            raise _FAILED(f"{request.url} does not decode as its Content-Encoding says: {e}") from None
        except httpx.ConnectError as e:
            raise _REFUSED(str(e)) from e
        except httpx.HTTPError as e:
            raise _FAILED(f"{type(e).__name__}: {e}") from e
        request.meta["body_path"] = path
        request.meta["body_sha256"] = sha256
        stats.inc_value("file_download/to_disk")
        stats.inc_value("file_download/bytes", size)
        return self._response(request, answer, b"")

    async def _error_body(self, answer: httpx.Response) -> bytes:
        """Read at most ERROR_BODY_MAX bytes of a body (decoded): enough to see what went wrong."""
        body = bytearray()
        try:
            async with contextlib.aclosing(decoded_chunks(answer, 0)) as pieces:
                async for piece in pieces:
                    body += piece
                    if len(body) >= ERROR_BODY_MAX:
                        self.crawler.stats.inc_value("file_download/error_body_capped")
                        break
        except DecodingError:   # the status is the news; a broken error page need not fail the request
            pass
        return bytes(body[:ERROR_BODY_MAX])

    async def _save(self, answer: httpx.Response) -> tuple[str, str, int]:
        fd, path = tempfile.mkstemp(prefix="lbm-download-", dir=self.folder)
        self.paths.add(path)
        size, digest = 0, hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                async for piece in decoded_chunks(answer, self.maxsize):
                    size += len(piece)
                    out.write(piece)
                    digest.update(piece)
        except BaseException:   # cancelled and timed out included
            os.unlink(path)
            raise
        return path, digest.hexdigest(), size

    @staticmethod
    def _response(request, answer: httpx.Response, body: bytes) -> Response:
        headers = Headers([(k, v) for k, v in answer.headers.raw if k.lower() not in _DROPPED])
        return Response(str(answer.url), status=answer.status_code, headers=headers, body=body, request=request)

    async def close(self) -> None:
        # A file downloaded but never parsed (the crawl stopped at its time limit first) goes too.
        left = [p for p in self.paths if os.path.exists(p)]
        for path in left:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        if left:
            self.crawler.stats.inc_value("file_download/left_over_removed", len(left))
        await self.client.aclose()
        await self.fallback.close()
