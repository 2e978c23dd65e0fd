"""The library: one record of the public library lists."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spiders.items import Record


@dataclass
class Library(Record):
    authority: str | None = None
    address: str | None = None
    uprn: str | None = None
    statutory: str | None = None
    library_type: str | None = None
    year_opened: str | None = None
    year_closed: str | None = None
    TABLE: ClassVar[str] = "libraries"
    # The three published layouts differ in these (the 2023 one has no coordinates): not a change of the library.
    VOLATILE: ClassVar[tuple[str, ...]] = Record.VOLATILE + (
        "latitude", "longitude", "address", "library_type", "statutory", "year_opened", "authority")
