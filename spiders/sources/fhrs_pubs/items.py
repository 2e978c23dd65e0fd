"""The pub: one establishment of the food hygiene register."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spiders.items import Record


@dataclass
class Pub(Record):
    address: str | None = None
    authority: str | None = None
    authority_code: str | None = None
    business_type: str | None = None
    rating_date: str | None = None
    venue_kind: str | None = None          # pub, bar, nightclub, members_club, ... (spiders/sources/fhrs_pubs/venue_kinds.py)
    venue_kind_rule: str | None = None     # the rule that decided it
    TABLE: ClassVar[str] = "pubs"
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("rating_date",)
    VOLATILE: ClassVar[tuple[str, ...]] = Record.VOLATILE + ("rating_date",)
