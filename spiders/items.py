"""Items: the record every source's item extends (each source's own is in its folder), and the batches and file
states the pipelines carry. `ref` is the source's stable identifier; the id is (source, ref).

Location fields are what the source gave; the geo-match pipeline fills `ward_code`, `geo_method` and
`geo_reason`. The fields in _HINTS (the raw row, problems, an LSOA code, a place name) serve the pipelines and
are not stored as columns.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

_HINTS = frozenset({"raw", "problems", "lsoa_code", "place"})


@dataclass
class Record:
    source: str
    ref: str
    name: str
    scope: str = ""
    latitude: float | None = None
    longitude: float | None = None
    postcode: str | None = None
    ward_code: str | None = None          # an explicit 2017 (or other-vintage) ward code from the source
    lsoa_code: str | None = None          # an LSOA 2011 code from the source
    place: str | None = None              # a place name, looked up with postcodes.io /places
    geo_method: str | None = None
    geo_reason: str | None = None
    status: str = "open"                  # what the source says (stored as source_status)
    closed_at: str | None = None          # when the source says it closed, YYYY or YYYY-MM-DD (source_closed_at)
    source_url: str | None = None
    licence: str | None = None
    raw: dict[str, Any] | None = field(default=None, repr=False)   # the source row, kept for quarantine
    problems: list[str] = field(default_factory=list, repr=False)  # why it cannot be stored, if anything

    TABLE: ClassVar[str] = ""
    # Its table keeps the "listed again unchanged" marks in a narrow side table (db/seen.py): for many wide rows.
    SEEN_APART: ClassVar[bool] = False
    NUMBER_FIELDS: ClassVar[tuple[str, ...]] = ("latitude", "longitude")
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ()
    # Fields left out of the content hash, so that a re-crawl with the same content is "unchanged".
    VOLATILE: ClassVar[tuple[str, ...]] = ("source_url", "geo_method", "geo_reason")

    @property
    def id(self) -> str:
        return f"{self.source}:{self.ref}"

    def to_row(self) -> dict[str, Any]:
        """Return the columns to store: the source's status goes to source_status (closures own `status`)."""
        row = dict(vars(self))
        for hint in _HINTS:
            del row[hint]
        row["source_status"] = row.pop("status")
        row["source_closed_at"] = row.pop("closed_at")
        row["id"] = self.id
        return row


@dataclass(slots=True)
class Unbuilt:
    """A record read from its source but not built yet: the id it will have, the hash of its source input, and the
    spider's own mapping to build it. The unchanged pipeline (spiders/pipelines/unchanged.py) only touches it as
    seen when that input is unchanged since it was stored, and builds the rest. (A record whose input hash the
    spider found among those stored from its file is not even parsed: it goes in the batch's `Known`.)"""
    table: str
    id: str
    scope: str
    input_hash: str
    build: Callable[[], Record]

    def record(self) -> Record:
        record = self.build()
        record.input_hash = self.input_hash
        return record


@dataclass(slots=True)
class Known:
    """Records a spider found among those stored from its file by the hash of their input, without parsing them:
    unchanged. rows: (id, input hash, input bytes); build(bytes) makes the record, should anything need it."""
    table: str
    scope: str
    build: Callable[[bytes], Record]
    rows: list[tuple[str, str, bytes]]

    def records(self) -> list[Record]:
        out = []
        for _, input_hash, text in self.rows:
            record = self.build(text)
            record.input_hash = input_hash
            out.append(record)
        return out


@dataclass
class Batch:
    """Many items handed down the pipelines at once, so a large file pays Scrapy's per-item cost once a batch."""
    items: list[Record]
    unbuilt: list[Unbuilt] = field(default_factory=list)
    first_reading: bool = False   # from a file no good crawl has read: nothing in it can be stored unchanged
    known: Known | None = None


@dataclass
class FileState:
    """Not a record: what a spider learnt of one downloaded file, for the store to remember or act on.

    outcome: "parsed" (read in full: remember its validators and content), "not_modified" (the server answered
    304) or "same_content" (the same bytes as the last good crawl's): then the records the file gave last time
    are still there, and are counted as seen in this crawl; "refused" (too deep, too big or broken to read:
    quarantined with its reason, nothing else done).
    """
    source: str
    scope: str
    url: str
    outcome: str
    etag: str | None = None
    last_modified: str | None = None
    version: str | None = None          # what the source's own listing says of the file (360Giving's `modified`)
    content_hash: str | None = None
    records: int = 0
    read_in: int | None = None          # the crawl that last read (or touched) the file, for an unchanged file
    reason: str = ""                    # why a refused file was refused


def items_of(obj) -> list[Record]:
    """Return the records an item or a batch carries (none for a FileState)."""
    if isinstance(obj, Batch):
        if obj.unbuilt:   # no unchanged pipeline on the way: build them here
            obj.items.extend(u.record() for u in obj.unbuilt)
            obj.unbuilt = []
        if obj.known:
            obj.items.extend(obj.known.records())
            obj.known = None
        return obj.items
    return [obj] if isinstance(obj, Record) else []


def columns(item_class: type[Record]) -> dict[str, type]:
    """Return the columns and types an item class adds to those every record table has."""
    kinds = {"int": int, "float": float}
    base = {f.name for f in dataclasses.fields(Record)}
    return {f.name: kinds.get(str(f.type).split(" |")[0], str)
            for f in dataclasses.fields(item_class) if f.name not in base}
