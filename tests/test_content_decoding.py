"""Bounded decoders give back every byte, in pieces never much over CHUNK, whatever the input's chunking."""
from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from spiders.content_decoding import CHUNK, BoundedDecoder, DecodingError, zstd
from tests.bomb_server import brotli_bomb, gzip_bomb

BODY = b"grant to a village hall " * 40_000 + bytes(range(256)) * 4_000   # 1,984,000 bytes
ENCODED = {
    "gzip": gzip.compress(BODY),
    "deflate": zlib.compress(BODY),                  # zlib-wrapped, as the RFC says
    "deflate-raw": zlib.compress(BODY)[2:-4],        # raw deflate, as some servers send
    "br": brotli.compress(BODY),
    "zstd": zstd.compress(BODY),
    "gzip, br": brotli.compress(gzip.compress(BODY)),   # applied in order, undone in reverse
    "identity": BODY,
    "compress": BODY,                                # unknown: passed through, as httpx does
}


@pytest.mark.parametrize("name", ENCODED)
@pytest.mark.parametrize("step", [1000, 1 << 20])
def test_every_byte_comes_back_in_bounded_pieces(name, step):
    data, decoder = ENCODED[name], BoundedDecoder(name.replace("-raw", ""))
    pieces = [p for i in range(0, len(data), step) for p in decoder.decode(data[i:i + step])]
    assert b"".join(pieces) == BODY
    if name not in ("identity", "compress"):
        assert max(map(len, pieces)) <= 2 * CHUNK


@pytest.mark.parametrize("encoding, bomb", [("br", brotli_bomb(2048)), ("gzip", gzip_bomb(2 << 20))])
def test_a_bomb_is_decoded_a_piece_at_a_time(encoding, bomb):
    """A caller that stops after 10 MiB has held one piece at a time, never the gigabytes the bomb holds."""
    data, decoded = bomb
    assert decoded >= 1 << 30
    seen = 0
    for piece in BoundedDecoder(encoding).decode(data):
        assert len(piece) <= 2 * CHUNK
        seen += len(piece)
        if seen > 10 << 20:
            break
    assert seen > 10 << 20


def test_a_body_that_does_not_decode_says_so():
    with pytest.raises(DecodingError, match="brotli"):
        list(BoundedDecoder("br").decode(b"not brotli at all" * 10))
    with pytest.raises(DecodingError, match="zlib"):
        list(BoundedDecoder("gzip").decode(b"not gzip at all" * 10))
