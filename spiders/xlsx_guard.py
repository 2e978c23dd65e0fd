"""Look inside an XLSX (a zip) before opening it: a crafted file must not take gigabytes of memory.

openpyxl keeps every shared string in memory, even in read-only mode: a 5.5 MB file holding two million shared
strings took 545 MB, and a 50 MB one would take about 5 GB. So the archive's own directory is checked first:
entry sizes, compression ratios, the total uncompressed size, the number of sheets (a 70 MB file of 1,900 sheets
passed the other checks and ran 524 s to MemoryError: the reader holds every sheet but the first in memory), and the
shared-string count the workbook declares (and, when it declares none, the uncompressed size of the strings part).
Only then does openpyxl see the file.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass

SHARED_STRINGS = "xl/sharedStrings.xml"
WORKBOOK = "xl/workbook.xml"


@dataclass(frozen=True)
class Limits:
    max_entries: int = 10_000
    max_entry_bytes: int = 512 * 1024 * 1024          # one part, uncompressed
    max_total_bytes: int = 1024 * 1024 * 1024         # all parts, uncompressed
    max_sheets: int = 100                              # flattentool writes one sheet per array: a dozen or so
    max_ratio: float = 100.0                           # uncompressed / compressed, for parts over 1 MB
    max_shared_strings: int = 1_000_000                # about 300 MB in openpyxl
    max_shared_strings_bytes: int = 128 * 1024 * 1024


def check_xlsx(stream, limits: Limits = Limits()) -> None:
    """Raise ValueError saying what is wrong when the XLSX in `stream` (seekable binary) is too big to open."""
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as e:
        raise ValueError(f"not an XLSX (zip) file: {e}") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_entries:
            raise ValueError(f"XLSX refused: {len(entries)} parts (limit {limits.max_entries})")
        total = 0
        for entry in entries:
            total += entry.file_size
            if entry.file_size > limits.max_entry_bytes:
                raise ValueError(f"XLSX refused: part {entry.filename[:80]} is {entry.file_size:,} bytes "
                                 f"uncompressed (limit {limits.max_entry_bytes:,})")
            if entry.file_size > 1 << 20 and entry.file_size > limits.max_ratio * max(entry.compress_size, 1):
                raise ValueError(f"XLSX refused: part {entry.filename[:80]} expands "
                                 f"{entry.file_size / max(entry.compress_size, 1):.0f} times (limit "
                                 f"{limits.max_ratio:g}): a compression bomb")
        if total > limits.max_total_bytes:
            raise ValueError(f"XLSX refused: {total:,} bytes uncompressed (limit {limits.max_total_bytes:,})")
        _check_sheets(archive, entries, limits)
        if SHARED_STRINGS in archive.namelist():
            _check_shared_strings(archive, limits)
    stream.seek(0)


def _check_sheets(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse a workbook with more sheets than the limit: its sheet parts, or the sheets its workbook part lists."""
    parts = sum(1 for e in entries if e.filename.startswith(("xl/worksheets/", "xl/chartsheets/"))
                and e.filename.endswith(".xml") and "/_rels/" not in e.filename)
    listed = 0
    if WORKBOOK in archive.namelist():
        with archive.open(WORKBOOK) as part:
            tail = b""
            for chunk in iter(lambda: part.read(1 << 20), b""):
                listed += (tail + chunk).count(b"<sheet ") - tail.count(b"<sheet ")
                tail = chunk[-8:]
    sheets = max(parts, listed)
    if sheets > limits.max_sheets:
        raise ValueError(f"XLSX refused: {sheets:,} sheets (limit {limits.max_sheets:,})")


def _check_shared_strings(archive: zipfile.ZipFile, limits: Limits) -> None:
    info = archive.getinfo(SHARED_STRINGS)
    if info.file_size > limits.max_shared_strings_bytes:
        raise ValueError(f"XLSX refused: shared strings are {info.file_size:,} bytes "
                         f"(limit {limits.max_shared_strings_bytes:,})")
    with archive.open(info) as part:
        head = part.read(4096).decode("utf-8", "replace")
    declared = re.search(r"<sst\b[^>]*?\buniqueCount=\"(\d+)\"", head) or re.search(
        r"<sst\b[^>]*?\bcount=\"(\d+)\"", head)
    if declared and int(declared.group(1)) > limits.max_shared_strings:
        raise ValueError(f"XLSX refused: {int(declared.group(1)):,} shared strings "
                         f"(limit {limits.max_shared_strings:,})")
    # A part that declares no count is bounded by its size above; count its strings cheaply as well.
    if not declared:
        count = 0
        with archive.open(info) as part:
            for chunk in iter(lambda: part.read(1 << 20), b""):
                count += chunk.count(b"<si>") + chunk.count(b"<si ")
                if count > limits.max_shared_strings:
                    raise ValueError(f"XLSX refused: over {limits.max_shared_strings:,} shared strings")
