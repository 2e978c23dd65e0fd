"""The mutual aid group: one record of the mutual aid listings."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spiders.items import Record


@dataclass
class Group(Record):
    source_id: str | None = None
    link: str | None = None
    location_name: str | None = None
    updated_at: str | None = None
    TABLE: ClassVar[str] = "groups"
    # The sheet, the wiki and its export number and stamp the same group differently: not a change of the group.
    VOLATILE: ClassVar[tuple[str, ...]] = Record.VOLATILE + ("source_id", "link", "updated_at")
