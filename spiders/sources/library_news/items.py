"""The news mention: one library closure, threat or reopening reported in the news."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spiders.items import Record


@dataclass
class NewsMention(Record):
    authority: str | None = None
    lad_code: str | None = None
    library_id: str | None = None
    signal: str | None = None        # closure | threatened | reopening
    post_url: str | None = None
    post_date: str | None = None
    text: str | None = None
    TABLE: ClassVar[str] = "news_mentions"
