"""360Giving JSON packages, streamed: grants are read one at a time, never the whole document.

Some published packages are hundreds of MB: the spider hands us the file the download handler wrote to disk
(spiders/file_download.py), so memory stays flat; bytes are accepted too (wrapped in a BytesIO, which shares them).

Two readers give the same grants in the same order:
- the fast one, for the usual shape (`{"grants": [...]}` with nothing after the array, or a bare array): it cuts
  the array at each `}` `,` `{` and parses the text before the cut with orjson. A cut inside a string or inside a
  nested object leaves text that is not valid JSON (an unterminated string, an unclosed bracket), so the first
  text that parses is exactly one grant (json_grant_texts gives its bytes too). 2.5x ijson's speed over the real
  grants (bench/bench_json_reader.py). Told the hashes of grants read before (keyed_grant_texts), it does not
  parse those at all;
- ijson, for everything else, and from wherever the fast reader gives up (a grant that does not parse within
  MAX_TRIES cuts, MAX_GRANT bytes or MAX_REPARSED bytes parsed in vain, so that a hostile file costs linear time;
  text orjson refuses, such as a lone surrogate; a shape it does not expect): the grants already given are
  skipped, and ijson reports a broken file as it always did. The file's depth is checked first (check_depth):
  a document nested deeper than MAX_DEPTH is refused.
"""
from __future__ import annotations

import io
import itertools
import os
import re
from collections.abc import Callable, Container, Iterator

import ijson
import orjson

CHUNK = 1 << 22              # bytes read at a time
MAX_GRANT = 1 << 24          # a "grant" longer than this is not one: ijson takes over
MAX_TRIES = 256              # cuts tried within one grant before ijson takes over
MAX_REPARSED = 1 << 26       # bytes parsed in vain within one grant before ijson takes over (bounds the work)
MAX_DEPTH = 64               # JSON nesting: a 360Giving grant is 4 deep inside its package; orjson stops at 1,024
_CUT = re.compile(rb"\}\s*,\s*\{")
_HEAD = re.compile(rb'\s*(?:\{\s*"grants"\s*:\s*)?\[\s*')
_PACKAGE_TAIL = re.compile(rb"\]\s*\}\s*$")
_ARRAY_TAIL = re.compile(rb"\]\s*$")
_BOM = b"\xef\xbb\xbf"


def open_binary(source):
    """Open a path, or wrap bytes, as a binary stream."""
    return open(source, "rb") if isinstance(source, (str, os.PathLike)) else io.BytesIO(source)


def json_grants(source, stats=None) -> Iterator[dict]:
    """Yield each grant dict of a package {"grants": [...]} (also a bare top-level array of grants)."""
    for grant, _ in json_grant_texts(source, stats):
        yield grant


def json_grant_texts(source, stats=None) -> Iterator[tuple[dict, bytes | None]]:
    """Yield (grant, its own JSON bytes) for each grant; the bytes are None where ijson read it."""
    for grant, text, _ in keyed_grant_texts(source, stats):
        yield grant, text


def keyed_grant_texts(source, stats=None, key: Callable[[bytes], str] | None = None,
                      known: Container[str] = ()) -> Iterator[tuple[dict | None, bytes | None, str | None]]:
    """Yield (grant, its JSON bytes, key(bytes)) for each grant; bytes and key are None where ijson read it.

    A grant whose key is in `known` is not parsed: (None, bytes, key). Its bytes are those of a grant read before
    (key is a hash of them), and the text began where the last grant ended, so it is exactly that one grant: no
    parse is needed to know where it ends. A re-crawled file's unchanged grants cost a hash each, not a parse.
    """
    given = 0
    with open_binary(source) as stream:
        fast = _fast_grants(stream, key, known)
        try:
            for grant, text, k in fast:
                given += 1
                yield grant, text, k
            return
        except _GiveUp:
            pass
    if stats is not None:
        stats.inc_value("threesixty/json/ijson")
    with open_binary(source) as stream:
        head = stream.read(64)
        prefix = "item" if _starts_with_array(head) else "grants.item"
        bom = len(_BOM) if head.startswith(_BOM) else 0   # ijson stops at a byte-order mark
        stream.seek(bom)
        check_depth(stream)
        stream.seek(bom)
        # Every element counts, objects or not: the fast reader gave only objects, and gave up at the first other.
        for grant in itertools.islice(ijson.items(stream, prefix, use_float=True), given, None):
            if isinstance(grant, dict):
                yield grant, None, None
            elif stats is not None:
                stats.inc_value("threesixty/json/not_an_object")


def check_depth(stream, max_depth: int = MAX_DEPTH) -> None:
    """Raise ValueError if the JSON in `stream` is nested deeper than max_depth.

    ijson's prefixed events build every prefix ("grants.item.item...") in C before anything could look at them:
    200 KB nested 100,000 deep took 3.9 GB. Its basic events carry no prefix, so they are counted first, in a
    pass of their own (cheaper than building prefixes in Python: about 2x ijson's time over a file, not 4x).
    A file broken part-way is left for the reading pass to report, with the grants before the break.
    """
    depth = 0
    try:
        for event, _ in ijson.basic_parse(stream):
            if event == "start_map" or event == "start_array":
                depth += 1
                if depth > max_depth:
                    raise ValueError(f"JSON refused: nested deeper than {max_depth} levels")
            elif event == "end_map" or event == "end_array":
                depth -= 1
    except ijson.JSONError:
        pass


class _GiveUp(Exception):
    """The fast reader cannot go on: ijson reads the rest."""


def _fast_grants(stream, key=None, known: Container[str] = ()) -> Iterator[tuple[dict | None, bytes, str | None]]:
    buffer = stream.read(max(CHUNK, 4096))   # the head whole
    if buffer.startswith(_BOM):
        buffer = buffer[len(_BOM):]
    head = _HEAD.match(buffer)
    if head is None or not _tail_fits(stream, head.group(0)):
        raise _GiveUp
    tail = _PACKAGE_TAIL if b"{" in head.group(0) else _ARRAY_TAIL
    start = scan = head.end()   # start: where the current grant begins; scan: where to look for the next cut
    tries, reparsed, at_end = 0, 0, False
    while True:
        for cut in _CUT.finditer(buffer, scan):
            text = buffer[start:cut.start() + 1]
            k = key(text) if key else None
            if k is None or k not in known:
                grant = _parse(text)
                if grant is None:   # the cut was inside this grant: try the next one
                    tries, reparsed = tries + 1, reparsed + len(text)
                    if tries > MAX_TRIES or len(text) > MAX_GRANT or reparsed > MAX_REPARSED:
                        raise _GiveUp
                    continue
                yield grant, text, k
            else:
                yield None, text, k
            start, tries, reparsed = cut.end() - 1, 0, 0
        if at_end:
            break
        more = stream.read(CHUNK)
        at_end = not more
        kept = buffer[start:]
        # A cut may straddle the end of the buffer: look again from its last `}` if only white space and a comma
        # follow it.
        stripped = kept.rstrip(b" \t\r\n,")
        scan = len(stripped) - 1 if stripped.endswith(b"}") else len(kept)
        buffer, start = kept + more, 0
        if len(buffer) > MAX_GRANT + CHUNK:
            raise _GiveUp
    last = tail.sub(b"", buffer[start:]).strip()
    if not last:
        return
    k = key(last) if key else None
    if k is not None and k in known:
        yield None, last, k
        return
    grant = _parse(last)
    if grant is None:
        raise _GiveUp
    yield grant, last, k


def _parse(text: bytes) -> dict | None:
    try:
        grant = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(grant, dict):
        raise _GiveUp
    return grant


def _tail_fits(stream, head: bytes) -> bool:
    """Say whether the file ends as its head says: `]}` for a package, `]` for a bare array."""
    here = stream.tell()
    stream.seek(0, io.SEEK_END)
    stream.seek(max(0, stream.tell() - 256))
    end = stream.read()
    stream.seek(here)
    return bool((_PACKAGE_TAIL if b"{" in head else _ARRAY_TAIL).search(end))


def _starts_with_array(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"["
