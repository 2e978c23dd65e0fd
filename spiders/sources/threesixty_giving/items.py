"""The grant: one record of a 360Giving publisher's file."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spiders.items import Record


@dataclass
class Grant(Record):
    title: str | None = None
    description: str | None = None
    amount: float | None = None
    currency: str | None = None
    award_date: str | None = None
    funder_id: str | None = None
    funder_name: str | None = None
    recipient_id: str | None = None
    recipient_name: str | None = None
    recipient_postcode: str | None = None
    programme: str | None = None
    beneficiary_locations: str | None = None   # JSON list of {name, geoCode, geoCodeType}
    publisher: str | None = None
    covid: int = 0
    geo_input: str | None = None               # which input located it: beneficiary_location, recipient_postcode...
    input_hash: str | None = None              # of its raw input and the mapping's version (pipelines/unchanged.py)
    TABLE: ClassVar[str] = "grants"
    SEEN_APART: ClassVar[bool] = True   # a million ~1 KB rows, nearly all listed again unchanged every week
    NUMBER_FIELDS: ClassVar[tuple[str, ...]] = Record.NUMBER_FIELDS + ("amount",)
    DATE_FIELDS: ClassVar[tuple[str, ...]] = ("award_date",)
    VOLATILE: ClassVar[tuple[str, ...]] = Record.VOLATILE + ("geo_input", "input_hash")
