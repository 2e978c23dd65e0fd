"""Content-Encoding decoders that hand back at most CHUNK bytes at a time, so decoded bytes are counted as they appear.

httpx decodes each received chunk whole: 8 KB of brotli became gigabytes in one call before any limit could look
at them. These decoders never produce more than CHUNK bytes per step (zlib's max_length, brotli's
output_buffer_limit, zstd's max_length), so the caller stops a bomb at its limit, not after.
Encodings other than gzip, deflate, br and zstd pass through unchanged (as httpx does), counted as they arrive.
"""
from __future__ import annotations

import sys
import zlib
from collections.abc import Iterator

import brotli

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

CHUNK = 1 << 16   # brotli may go past it by one step of its output buffer (about 100 KB seen)


class DecodingError(ValueError):
    """The body does not decode as its Content-Encoding says."""


class _Zlib:
    def __init__(self, wbits: int, raw_fallback: bool = False):
        self._d = zlib.decompressobj(wbits)
        self._raw_fallback = raw_fallback   # "deflate" is sent both zlib-wrapped and raw (as httpx tries both)

    def decode(self, data: bytes) -> Iterator[bytes]:
        while not self._d.eof:
            try:
                out = self._d.decompress(data, CHUNK)
            except zlib.error as e:
                if not self._raw_fallback:
                    raise DecodingError(f"zlib: {e}") from None
                self._d, self._raw_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
                continue
            self._raw_fallback = False
            data = self._d.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < CHUNK:   # input used up and no output held back
                return


class _Brotli:
    def __init__(self):
        self._d = brotli.Decompressor()

    def decode(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._d.process(data, output_buffer_limit=CHUNK)
            # Output held back is asked for with empty input until none comes: can_accept_more_data() turns true
            # once the input is taken in, while output may still be waiting.
            while out:
                yield out
                if self._d.is_finished():
                    return
                out = self._d.process(b"", output_buffer_limit=CHUNK)
        except brotli.error as e:
            raise DecodingError(f"brotli: {e}") from None


class _Zstd:
    def __init__(self):
        self._d = zstd.ZstdDecompressor()

    def decode(self, data: bytes) -> Iterator[bytes]:
        try:
            while not self._d.eof:
                out = self._d.decompress(data, CHUNK)
                data = b""
                if out:
                    yield out
                if self._d.needs_input:
                    return
        except zstd.ZstdError as e:
            raise DecodingError(f"zstd: {e}") from None


def _decoder(name: str):
    if name in ("gzip", "x-gzip"):
        return _Zlib(zlib.MAX_WBITS | 16)
    if name == "deflate":
        return _Zlib(zlib.MAX_WBITS, raw_fallback=True)
    if name == "br":
        return _Brotli()
    if name == "zstd":
        return _Zstd()
    return None   # identity, or one we do not know: passed through


class BoundedDecoder:
    """Decode a body sent with the given Content-Encoding values, in pieces of at most CHUNK bytes."""

    def __init__(self, content_encoding: str):
        names = [n.strip().lower() for n in content_encoding.split(",") if n.strip()]
        # Applied in the order listed, so undone in reverse.
        self._stages = [d for d in map(_decoder, reversed(names)) if d is not None]

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Yield the decoded pieces of the next received bytes."""
        yield from self._through(data, 0)

    def _through(self, data: bytes, stage: int) -> Iterator[bytes]:
        if stage == len(self._stages):
            if data:
                yield data
            return
        for piece in self._stages[stage].decode(data):
            yield from self._through(piece, stage + 1)
