"""Hostile downloads end at their limits: bytes counted after decoding, error bodies capped, a whole download timed,
temporary files gone whatever happens. Each bomb is served from 127.0.0.1 to a real crawl child, whose memory is
measured (it must stay under 600 MB) under an address-space ceiling, so that a broken bound fails the test instead
of exhausting the machine."""
from __future__ import annotations

import subprocess
import sys
import tempfile

from db.store import init_public
from spiders import download_folders
from spiders.content_decoding import CHUNK
from tests.bomb_crawl import JSON, SCRAPY, crawl_bomb
from tests.bomb_server import MIB, Answer, BombServer, brotli_bomb, endless, gzip_bomb

BROTLI_BOMB, BROTLI_DECODED = brotli_bomb(8 * 1024)


def crawl_file(tmp_path, answer: Answer, registry: Answer | None = None, timeout: float = 120, env=None,
               scrapy=None, **settings):
    """Crawl 360Giving from a registry listing one file, served by `answer`; return (result, stats, peak MB, s)."""
    run = crawl_bomb(tmp_path, answer, registry, timeout, env, scrapy, **settings)
    print(f"peak RSS {run.peak_mb:.0f} MB, {run.seconds:.1f} s: {run.result.reason}")
    return run.result, run.stats, run.peak_mb, run.seconds


def test_an_8_kb_brotli_bomb_on_a_200_stops_at_the_decoded_limit(tmp_path):
    assert len(BROTLI_BOMB) <= 8 * 1024 and BROTLI_DECODED > 9 * 1024 * MIB   # 8 KB that decode to 9.8 GB
    answer = Answer(200, {**JSON, "Content-Encoding": "br"}, lambda: [BROTLI_BOMB])
    result, stats, peak, _ = crawl_file(tmp_path, answer, download_max_mb=64)
    assert result.status == "failed"
    assert "larger than its limit of 67,108,864 bytes decoded" in result.reason    # 64 x 1,048,576
    stopped = int(result.reason.rsplit("stopped at ", 1)[1].split()[0].replace(",", ""))
    assert 64 * MIB < stopped <= 64 * MIB + 2 * CHUNK   # at the limit, one decoded piece past it at most
    assert stats["file_download/refused/size"] == 1 and stats["file_state/quarantined"] == 1
    assert peak < 600
    quarantined = list(init_public(tmp_path / "db.sqlite")["quarantine"].rows)
    assert [(q["ref"].endswith("/file.json"), "(download_max_mb)" in q["reason"]) for q in quarantined] == [
        (True, True)]


def test_a_10_mb_gzip_on_a_404_is_read_to_64_kb(tmp_path):
    bomb, decoded = gzip_bomb(10 * MIB)
    assert decoded > 9 * 1024 * MIB
    answer = Answer(404, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, lambda: [bomb])
    result, stats, peak, seconds = crawl_file(tmp_path, answer)
    assert result.status == "failed" and "HTTP 404 from" in result.reason
    assert stats["file_download/error_body_capped"] == 1
    assert peak < 600 and seconds < 60


def test_an_endless_404_is_read_to_64_kb(tmp_path):
    answer = Answer(404, {"Content-Type": "text/html"}, endless)
    result, stats, peak, seconds = crawl_file(tmp_path, answer, timeout=60)
    assert result.status == "failed" and "HTTP 404 from" in result.reason
    assert stats["file_download/error_body_capped"] == 1
    assert peak < 600 and seconds < 60


def test_a_file_sent_a_byte_a_second_ends_at_the_download_time_limit(tmp_path):
    """Timed in all, not between bytes; and not retried: a server that answers, then trickles, would do it again."""
    answer = Answer(200, {**JSON, "Content-Length": "1000"}, lambda: (b" " for _ in range(1000)), pause=1.0)
    retrying = {**SCRAPY, "RETRY_TIMES": 3}
    result, stats, peak, seconds = crawl_file(tmp_path, answer, timeout=60, scrapy=retrying, download_timeout=5)
    assert result.status == "failed" and "took longer than 5 s in all" in result.reason
    assert stats["file_download/refused/time"] == 1 and "retry/count" not in stats
    assert stats["file_state/quarantined"] == 1   # refused like a file too deep or too big to read
    # The crawl child's own start (Scrapy, the registry) comes on top of the 5 s; never the file's 1,000 s.
    assert seconds < 5 + 10 and peak < 600


def test_a_response_held_in_memory_sent_a_byte_a_second_ends_at_the_download_time_limit(tmp_path):
    """Scrapy's own handler times the whole download too: download_timeout reaches it."""
    registry = Answer(200, {**JSON, "Content-Length": "1000"}, lambda: (b" " for _ in range(1000)), pause=1.0)
    result, _, _, seconds = crawl_file(tmp_path, Answer(200, JSON, lambda: [b"[]"]), registry=registry,
                                       timeout=60, download_timeout=5)
    assert result.status == "failed" and "took longer than 5.0 seconds" in result.reason
    assert seconds < 5 + 10


def test_a_brotli_bomb_held_in_memory_stops_at_response_max_mb(tmp_path):
    """The registry is read into memory by Scrapy's own handler: response_max_mb bounds it, decoded too."""
    registry = Answer(200, {**JSON, "Content-Encoding": "br"}, lambda: [BROTLI_BOMB])
    result, _, peak, _ = crawl_file(tmp_path, Answer(200, JSON, lambda: [b"[]"]), registry=registry)
    assert result.status == "failed"
    assert "exceeded DOWNLOAD_MAXSIZE (104857600 B) during decompression" in result.reason   # 100 x 1,048,576
    assert peak < 600


def test_a_crawl_killed_at_its_time_limit_leaves_no_download(tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    answer = Answer(200, {**JSON, "Content-Length": str(100 * MIB)}, lambda: (bytes(MIB) for _ in range(100)),
                    pause=1.0)
    result, _, _, _ = crawl_file(tmp_path, answer, timeout=8, env={"TMPDIR": str(temp)})
    assert "crawl stopped after its 8 s timeout" in result.reason
    assert list(temp.iterdir()) == []


def test_download_folders_of_dead_parents_are_removed_at_the_next_start(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f"lbm-crawl-{gone}-x1"
    live = tmp_path / f"lbm-crawl-{download_folders.os.getpid()}-x2"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "lbm-download-abc").write_bytes(b"half a file")
    made = download_folders.make_folder()
    assert not stale.exists() and live.exists()
    download_folders.remove_folder(made)


def test_a_registry_nested_100000_deep_is_a_parse_error(tmp_path):
    """The registry is read whole by json.loads, which stops at Python's recursion limit: an error of its scope."""
    deep = b"[" * 100_000 + b"]" * 100_000
    registry = Answer(200, JSON, lambda: [deep])
    result, stats, peak, _ = crawl_file(tmp_path, Answer(200, JSON, lambda: [b"[]"]), registry=registry)
    assert result.status == "failed" and "cannot parse the registry" in result.reason
    assert "spider_exceptions/RecursionError" not in stats
    assert peak < 600


DOWNLOAD_THEN_CLOSE = """
import asyncio, os, sys
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from scrapy import Request
from scrapy.utils.test import get_crawler
from spiders.file_download import FileToDiskHandler

async def main():
    crawler = get_crawler(settings_dict={"LBM_DOWNLOAD_DIR": sys.argv[2]})
    handler = FileToDiskHandler(crawler)
    request = Request(sys.argv[1], meta={"to_disk": True, "download_timeout": 10})
    await handler.download_request(request)
    print(os.path.basename(request.meta["body_path"]), sorted(os.listdir(sys.argv[2])))
    await handler.close()   # the crawl ends before the file is parsed
    print(sorted(os.listdir(sys.argv[2])), crawler.stats.get_value("file_download/left_over_removed"))

asyncio.get_event_loop().run_until_complete(main())
"""


def test_a_download_never_parsed_is_removed_when_the_crawl_closes(tmp_path):
    with BombServer({"/f.json": Answer(200, JSON, lambda: [b"[1, 2, 3]"])}) as server:
        out = subprocess.run([sys.executable, "-c", DOWNLOAD_THEN_CLOSE, server.url + "/f.json", str(tmp_path)],
                             capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    written, after = out.stdout.splitlines()
    name, listed = written.split(" ", 1)
    assert listed == f"['{name}']" and name.startswith("lbm-download-")
    assert after == "[] 1"
