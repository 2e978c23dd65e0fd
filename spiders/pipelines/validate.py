"""Validate: a record that cannot be stored goes to quarantine with its raw row and the reason, and is counted.

A text field over its cap (db/fields.py) is such a reason: the record is quarantined naming the field and its
length, and counted as validate/oversized/<field>; the quarantine keeps its raw row with long strings cut.
"""
from __future__ import annotations

from scrapy.exceptions import DropItem

from db.fields import over_caps
from spiders.items import Batch, Record
from spiders.pipelines.context import StorePipeline


def problems_of(item: Record) -> list[str]:
    """Return why the item cannot be stored (empty when it can)."""
    problems = [f"{name} is {length:,} characters long (cap {cap:,})" for name, length, cap in over_caps(vars(item))]
    problems += item.problems
    if not item.ref:
        problems.append("no stable identifier")
    if not item.name:
        problems.append("no name")
    lat, lng = item.latitude, item.longitude
    if lat is not None and not -90 <= lat <= 90 or lng is not None and not -180 <= lng <= 180:
        problems.append(f"coordinates out of range: {lat}, {lng}")
    return problems


class ValidatePipeline(StorePipeline):
    """Scrapy pipeline 200: quarantine what cannot be stored."""

    def process_item(self, item, spider=None):
        if not isinstance(item, Batch | Record):   # a FileState: nothing to validate
            return item
        if isinstance(item, Batch):
            item.items = [record for record in item.items if self.storable(record)]
            return item
        if self.storable(item):
            return item
        raise DropItem(f"quarantined {item.source}:{item.ref}")

    def storable(self, record: Record) -> bool:
        """Say whether a record can be stored; quarantine it with the reason when it cannot."""
        problems = problems_of(record)
        if not problems:
            return True
        self.stats.inc_value("validate/quarantined")
        self.stats.inc_value(f"validate/reason/{problems[0].split(' ')[0]}")
        for name, _, _ in over_caps(vars(record)):
            self.stats.inc_value(f"validate/oversized/{name}")
        if self.store.quarantine(record, "; ".join(problems)):
            # A known record with one bad field: seen all the same, and counted in its scope's items for health.
            self.stats.inc_value("validate/quarantined_but_seen")
            self.stats.inc_value(f"scope/{record.scope}/items")
        return False
