"""A download handler that streams big files to disk: memory stays flat however large a publisher's file is.

Scrapy keeps a whole response body in memory (twice, for a moment); some 360Giving files are hundreds of MB.
A request with meta["to_disk"] = True whose answer is 200 has its body written to a temporary file, named in
meta["body_path"] (the spider deletes it once parsed) and its sha256, taken while writing, in meta["body_sha256"]
(so a server that ignores conditional GET and sends the same bytes again costs no parse); its Response body is
empty. Every other request, and every other status, goes through Scrapy's own HTTP handler. It runs inside Scrapy's
downloader slots, so concurrency per host, delays, the User-Agent, robots.txt and retries all still apply.
"""
from __future__ import annotations

import hashlib
import os
import tempfile

import httpcore
import httpx
from scrapy import exceptions
from scrapy.http import Headers, Response
from scrapy.utils.misc import build_from_crawler, load_object

# Scrapy >= 2.13 names these; older versions retry on the built-in kinds.
_TIMEOUT = getattr(exceptions, "DownloadTimeoutError", TimeoutError)
_REFUSED = getattr(exceptions, "DownloadConnectionRefusedError", ConnectionRefusedError)
_FAILED = getattr(exceptions, "DownloadFailedError", ConnectionError)
_DROPPED = {b"content-encoding", b"content-length", b"transfer-encoding"}   # the file holds the decoded body
# httpcore reads a response 64 KB at a time, each read a round of the event loop (and asyncio hands it 256 KB,
# split four ways). Reading up to 1 MB: 211 MB streamed in 1.2 s instead of 1.75 s. Only the most a read takes
# changes (h11 parses whatever arrives); it holds for every httpx client of the crawl process.
httpcore.AsyncHTTP11Connection.READ_NUM_BYTES = max(httpcore.AsyncHTTP11Connection.READ_NUM_BYTES, 1 << 20)
# Signal (request=): the body of a 200 answer to a to_disk request starts to arrive. Work that only a downloaded
# body needs can start now and overlap the download (spiders/conditional_get.py reads stored input hashes).
body_started = object()


class FileToDiskHandler:
    """HTTP(S) handler: 200 answers to requests marked to_disk are streamed to a temporary file."""

    lazy = False

    def __init__(self, crawler):
        self.crawler = crawler
        fallback = crawler.settings.getdict("DOWNLOAD_HANDLERS_BASE")["http"]
        self.fallback = build_from_crawler(load_object(fallback), crawler)
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        self.client = httpx.AsyncClient(follow_redirects=False)
        crawler.stats.set_value("file_download/handler", type(self).__name__)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def download_request(self, request, spider=None) -> Response:
        if not request.meta.get("to_disk"):
            return await self.fallback.download_request(request)
        timeout = request.meta.get("download_timeout", 180)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in request.headers.items() for v in vs]
        try:
            async with self.client.stream(request.method, request.url, headers=headers, content=request.body or None,
                                          timeout=timeout) as answer:
                if answer.status_code != 200:
                    body = await answer.aread()
                    return self._response(request, answer, body)
                self.crawler.signals.send_catch_log(signal=body_started, request=request)
                path, sha256 = await self._save(answer, request.url)
        except httpx.TimeoutException as e:
            raise _TIMEOUT(f"getting {request.url} took longer than {timeout} s") from e
        except httpx.ConnectError as e:
            raise _REFUSED(str(e)) from e
        except httpx.HTTPError as e:
            raise _FAILED(f"{type(e).__name__}: {e}") from e
        request.meta["body_path"] = path
        request.meta["body_sha256"] = sha256
        self.crawler.stats.inc_value("file_download/to_disk")
        self.crawler.stats.inc_value("file_download/bytes", os.path.getsize(path))
        return self._response(request, answer, b"")

    async def _save(self, answer: httpx.Response, url: str) -> tuple[str, str]:
        fd, path = tempfile.mkstemp(prefix="lbm-download-")
        size, digest = 0, hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in answer.aiter_bytes():
                    size += len(chunk)
                    if self.maxsize and size > self.maxsize:
                        raise exceptions.IgnoreRequest(f"{url} is larger than DOWNLOAD_MAXSIZE {self.maxsize}")
                    out.write(chunk)
                    digest.update(chunk)
        except BaseException:
            os.unlink(path)
            raise
        return path, digest.hexdigest()

    @staticmethod
    def _response(request, answer: httpx.Response, body: bytes) -> Response:
        headers = Headers([(k, v) for k, v in answer.headers.raw if k.lower() not in _DROPPED])
        return Response(str(answer.url), status=answer.status_code, headers=headers, body=body, request=request)

    async def close(self) -> None:
        await self.client.aclose()
        await self.fallback.close()
